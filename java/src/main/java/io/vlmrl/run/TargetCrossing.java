package io.vlmrl.run;

import java.util.List;
import java.util.OptionalInt;

/**
 * When a noisy per-step metric (the sampled accuracy of 64 responses, say) first reaches a
 * target: the first step whose trailing mean over {@code window} steps is at least the target.
 * A trailing mean, so that one lucky batch does not count as reaching it.
 */
public final class TargetCrossing {
    private TargetCrossing() {
    }

    /**
     * @return the number of steps taken when the mean of the last {@code window} values first
     *         reaches {@code target} (so at least {@code window}), or empty if it never does
     */
    public static OptionalInt stepsToReach(List<Double> values, double target, int window) {
        if (!Double.isFinite(target)) throw new IllegalArgumentException("target: expected a finite number, got " + target);
        double[] means = TrailingMean.of(values.stream().mapToDouble(Double::doubleValue).toArray(), window);
        for (int i = window - 1; i < means.length; i++) {
            if (means[i] >= target) {
                return OptionalInt.of(i + 1);
            }
        }
        return OptionalInt.empty();
    }
}
