package io.vlmrl.reward;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The reward of one response.
 *
 * @param score      what the RL trainer maximises (the sum of the weighted components, usually)
 * @param correct    whether the final answer is right: the accuracy metric, the ACPO/APO c_i
 * @param components the named, already weighted parts of the score (e.g. {@code accuracy},
 *                   {@code format}), for metrics; may be empty
 */
public record Reward(double score, boolean correct, Map<String, Double> components) {

    public Reward {
        components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
    }

    /** A reward with no named components. */
    public static Reward of(double score, boolean correct) {
        return new Reward(score, correct, Map.of());
    }
}
