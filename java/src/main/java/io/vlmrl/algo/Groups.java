package io.vlmrl.algo;

/** Argument checks shared by the per-group algorithms. */
final class Groups {
    private Groups() {
    }

    /** Checks that a batch of {@code length} values splits into groups of {@code groupSize}. */
    static int count(String name, int length, int groupSize) {
        if (groupSize < 1) {
            throw new IllegalArgumentException("groupSize: expected >= 1, got " + groupSize);
        }
        if (length % groupSize != 0) {
            throw new IllegalArgumentException(name + ": expected a length divisible by groupSize " + groupSize
                    + ", got " + length);
        }
        return length / groupSize;
    }

    /** Checks that two per-response arrays have the same length. */
    static void sameLength(String name, double[] values, String referenceName, double[] reference) {
        if (values.length != reference.length) {
            throw new IllegalArgumentException(name + ": expected length " + reference.length + " (same as "
                    + referenceName + "), got " + values.length);
        }
    }

    static void finite(String name, double[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] is " + values[i]);
            }
        }
    }

    static double[] slice(double[] values, int group, int groupSize) {
        double[] out = new double[groupSize];
        System.arraycopy(values, group * groupSize, out, 0, groupSize);
        return out;
    }
}
