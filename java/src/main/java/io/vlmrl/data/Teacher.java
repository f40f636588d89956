package io.vlmrl.data;

import java.util.Random;
import java.util.function.Predicate;

/**
 * The teacher who writes the built-in task's worked responses (the supervised demonstrations).
 *
 * <p>A perfect teacher ({@code missRate} 0) reads every count off the scene exactly. An imperfect
 * one overlooks each shape it counts with probability {@code missRate}, independently, and
 * derives its answer from what it counted, as a weaker model distilled into demonstrations
 * would: its derivations are consistent but undercount. The task's answers, the reward and the
 * held-out evaluation always use the exact counts, so the gap between the teacher and the truth
 * is what reinforcement learning from the verifiable reward can close and imitation cannot.
 */
public final class Teacher {
    private final double missRate;

    /** @param missRate chance of overlooking each counted shape, in [0, 1) */
    public Teacher(double missRate) {
        if (!(missRate >= 0 && missRate < 1)) {
            throw new IllegalArgumentException("teacher missRate must be in [0, 1), got " + missRate);
        }
        this.missRate = missRate;
    }

    public double missRate() {
        return missRate;
    }

    /** How many shapes pass {@code filter} as this teacher counts them, drawing its misses from {@code rng}. */
    public int count(Scene scene, Predicate<Shape> filter, Random rng) {
        int exact = scene.count(filter);
        if (missRate == 0) {
            return exact;
        }
        int seen = 0;
        for (int i = 0; i < exact; i++) {
            if (rng.nextDouble() >= missRate) {
                seen++;
            }
        }
        return seen;
    }
}
