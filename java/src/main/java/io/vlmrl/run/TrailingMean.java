package io.vlmrl.run;

/**
 * Trailing means of a noisy per-step metric: value i is the mean of values
 * max(0, i - window + 1) .. i, so the first window - 1 values average what there is so far.
 */
public final class TrailingMean {
    private TrailingMean() {
    }

    public static double[] of(double[] values, int window) {
        if (window < 1) throw new IllegalArgumentException("window: expected >= 1 steps, got " + window);
        double[] means = new double[values.length];
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            sum += values[i];
            if (i >= window) {
                sum -= values[i - window];
            }
            means[i] = sum / Math.min(i + 1, window);
        }
        return means;
    }
}
