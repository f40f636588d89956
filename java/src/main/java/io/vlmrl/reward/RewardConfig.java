package io.vlmrl.reward;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code reward.*} keys: which {@link RewardFunction} scores the responses, its weights, what
 * happens when it fails, and DAPO's overlong shaping (added to the reward by the rollout).
 */
@Section("reward")
public record RewardConfig(
        @Key(def = "auto", registry = Rewards.class,
                help = "reward function: auto (a record's data_source when it names one, else builtin-scene on the built-in task and math on user data), builtin-scene, math or a registered name")
        String name,
        @Key(name = "class", def = "", help = "fully qualified class name of a user's RewardFunction on the classpath (replaces reward.name)")
        String className,
        @Key(def = "0.1", min = 0, max = 0.99, help = "weight of the format component")
        double formatWeight,
        @Key(def = "0.4", min = 0, max = 0.98,
                help = "builtin-scene: credit for the exact derivation's reasoning facts (format + reasoning < 1)")
        double reasoningWeight,
        @Key(def = "1e-4", min = 0, max = 0.1, help = "math: relative tolerance of numeric answers")
        double mathRelTol,
        @Key(def = "fail", help = "a reward that throws or is not finite: fail (stop naming the problem) or zero (score 0, count in reward/errors)")
        OnError onError,
        @Key(def = "false", help = "DAPO overlong shaping: add a length penalty near max length")
        boolean overlongShaping,
        @Key(def = "-1", min = -1, max = 1 << 20, help = "L_max of the overlong shaping (-1: rollout.max_response_length)")
        int overlongMaxLength,
        @Key(def = "-1", min = -1, max = 1 << 20, help = "L_cache, the soft margin of the overlong shaping (-1: L_max / 10, at least 1)")
        int overlongCache) {

    /** What a failing reward does. */
    public enum OnError {
        /** Stop the step with an error naming the problem and the response. */
        FAIL,
        /** Score the response 0 and count it in the metric {@code reward/errors}. */
        ZERO
    }

    public RewardConfig {
        if (formatWeight + reasoningWeight >= 1) {
            throw new IllegalArgumentException("config key 'reward.reasoning_weight': expected a number with reward.format_weight ("
                    + formatWeight + ") + reasoning_weight < 1 so that a right answer outscores a wrong one, got '"
                    + reasoningWeight + "'");
        }
        if (!className.isEmpty() && !name.equals("auto")) {
            throw new IllegalArgumentException("config key 'reward.class': set either reward.name ('" + name
                    + "') or reward.class ('" + className + "'), not both");
        }
    }

    public static RewardConfig defaults() {
        return Schema.defaults(RewardConfig.class);
    }

    /** L_max of the overlong shaping for responses of at most {@code maxResponseLength} tokens. */
    public int overlongMaxLengthFor(int maxResponseLength) {
        return overlongMaxLength < 0 ? maxResponseLength : overlongMaxLength;
    }

    /** L_cache of the overlong shaping for responses of at most {@code maxResponseLength} tokens. */
    public int overlongCacheFor(int maxResponseLength) {
        // DAPO penalises the last 20% of a 20k-token budget, far beyond its ordinary answers. A tenth
        // of the budget keeps the built-in task's longest ordinary answers (9 of 10 tokens) unpenalised,
        // so that only responses cut at the limit are.
        return overlongCache < 0 ? Math.max(1, overlongMaxLengthFor(maxResponseLength) / 10) : overlongCache;
    }
}
