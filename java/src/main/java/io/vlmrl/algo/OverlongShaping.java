package io.vlmrl.algo;

/**
 * DAPO overlong reward shaping (docs/algorithms.md): with maximum length L_max and soft margin
 * L_cache, the penalty is 0 for L &lt;= L_max - L_cache, ((L_max - L_cache) - L) / L_cache inside
 * the margin (from 0 down to -1), and -1 beyond L_max. It is added to the reward.
 */
public final class OverlongShaping {
    private OverlongShaping() {
    }

    /** The penalty of one response of length {@code length}. */
    public static double penalty(double length, int maxLength, int cacheLength) {
        check(maxLength, cacheLength);
        double threshold = maxLength - cacheLength;
        if (length <= threshold) {
            return 0.0;
        }
        if (length > maxLength) {
            return -1.0;
        }
        return (threshold - length) / cacheLength;
    }

    /** {@code rewards[i] + penalty(lengths[i])} for each response. */
    public static double[] apply(double[] rewards, double[] lengths, int maxLength, int cacheLength) {
        Groups.sameLength("lengths", lengths, "rewards", rewards);
        check(maxLength, cacheLength);
        double[] out = new double[rewards.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = rewards[i] + penalty(lengths[i], maxLength, cacheLength);
        }
        return out;
    }

    private static void check(int maxLength, int cacheLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLength: expected >= 1, got " + maxLength);
        }
        if (cacheLength < 1 || cacheLength > maxLength) {
            throw new IllegalArgumentException("cacheLength: expected in [1, maxLength = " + maxLength + "], got "
                    + cacheLength);
        }
    }
}
