package io.vlmrl.run;

import java.util.List;

/**
 * Means with 95% confidence intervals over a few seeds: Student's t, mean ± t(0.975, n − 1) · s / √n
 * with s the sample standard deviation. With fewer than two values there is no interval (NaN).
 */
public final class Intervals {

    /** t(0.975, df) for df = 1..30; beyond, the normal 1.96 is within 2%. */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
        2.056, 2.052, 2.048, 2.045, 2.042};

    /** A mean and the half-width of its 95% interval (NaN for one value). */
    public record Interval(double mean, double halfWidth, int n) {
        @Override
        public String toString() {
            if (Double.isNaN(halfWidth)) return String.format(java.util.Locale.ROOT, "%.3f", mean);
            return String.format(java.util.Locale.ROOT, "%.3f ± %.3f", mean, halfWidth);
        }
    }

    private Intervals() {
    }

    /** The mean of {@code values} and the half-width of its 95% interval. */
    public static Interval of(List<Double> values) {
        int n = values.size();
        if (n == 0) throw new IllegalArgumentException("values: expected at least one, got none");
        double mean = values.stream().mapToDouble(Double::doubleValue).sum() / n;
        if (n < 2) return new Interval(mean, Double.NaN, n);
        double ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        double sd = Math.sqrt(ss / (n - 1));
        return new Interval(mean, t975(n - 1) * sd / Math.sqrt(n), n);
    }

    /** Student's t quantile 0.975 with {@code df} degrees of freedom. */
    static double t975(int df) {
        if (df < 1) throw new IllegalArgumentException("df: expected >= 1, got " + df);
        return df <= T975.length ? T975[df - 1] : 1.96;
    }
}
