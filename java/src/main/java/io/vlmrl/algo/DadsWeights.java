package io.vlmrl.algo;

/**
 * DADS, difficulty-adaptive divergence shaping (APO; docs/algorithms.md "DADS"): per-response KL
 * weights lambda_i. With group difficulty {@code d = 1 - (sum c_i) / G}, a response with
 * A_i &gt; 0 in a group with 0 &lt; d &lt; 1 gets {@code lambda = 1 - exp(-kappa (1 - d))};
 * every other response gets 1. Hard positives (few correct) get a weaker KL pull. For G = 8
 * and kappa = e: 1 correct gives 0.288, 4 give 0.743, 7 give 0.907.
 */
public final class DadsWeights {
    /** The default kappa: Euler's number. */
    public static final double DEFAULT_KAPPA = Math.E;

    private DadsWeights() {
    }

    /** lambda of a positive response in a group with {@code correct} of {@code groupSize} correct (1 outside 0 &lt; d &lt; 1). */
    public static double lambda(double correct, int groupSize, double kappa) {
        double difficulty = 1 - correct / groupSize;
        if (!(difficulty > 0 && difficulty < 1)) {
            return 1.0;
        }
        return 1 - Math.exp(-kappa * (1 - difficulty));
    }

    /**
     * The weights of a batch of groups.
     *
     * @param correct c_i in {0, 1}, groups of {@code groupSize} consecutive responses
     * @param advantages A_i, same layout
     * @param kappa &gt; 0 ({@link #DEFAULT_KAPPA})
     */
    public static double[] compute(double[] correct, double[] advantages, int groupSize, double kappa) {
        Groups.sameLength("advantages", advantages, "correct", correct);
        int groups = Groups.count("correct", correct.length, groupSize);
        Groups.finite("correct", correct);
        Groups.finite("advantages", advantages);
        if (!(kappa > 0) || Double.isInfinite(kappa)) {
            throw new IllegalArgumentException("kappa: expected a finite value > 0, got " + kappa);
        }
        double[] out = new double[correct.length];
        for (int g = 0; g < groups; g++) {
            double sum = 0;
            for (int i = g * groupSize; i < (g + 1) * groupSize; i++) {
                sum += correct[i];
            }
            double positive = lambda(sum, groupSize, kappa);
            for (int i = g * groupSize; i < (g + 1) * groupSize; i++) {
                out[i] = advantages[i] > 0 ? positive : 1.0;
            }
        }
        return out;
    }

    /** {@link #compute(double[], double[], int, double)} with kappa = e. */
    public static double[] compute(double[] correct, double[] advantages, int groupSize) {
        return compute(correct, advantages, groupSize, DEFAULT_KAPPA);
    }
}
