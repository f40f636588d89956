package io.vlmrl.algo;

/**
 * STCR, suboptimal trajectory complexity regularization (APO; docs/algorithms.md "STCR"): in a
 * group with at least one correct response, with L̄+ the mean length of its correct responses,
 * an incorrect response with {@code Δ = L - L̄+ > 0} and a negative advantage gets
 * {@code w = 1 + (1 - exp(-alpha Δ))} (always below 2), and its advantage becomes {@code w A}.
 * Every other response keeps w = 1.
 *
 * <p>Difference from the reference implementation: that code also scales a <em>positive</em>
 * advantage of a wrong response (e.g. a well-formatted wrong answer rewarded for its format),
 * which would push such a response <em>up</em> harder for rambling. Here the weight applies only
 * where A &lt; 0, which is the stated intent: push long wrong answers down.
 */
public final class StcrWeights {
    /** The default alpha, ln(1.00001) (a literal so that it is a compile-time constant; a test checks it). */
    public static final double DEFAULT_ALPHA = 9.999950000398841E-6;

    private StcrWeights() {
    }

    /**
     * The weights w_i of a batch of groups.
     *
     * @param correct c_i in {0, 1}, groups of {@code groupSize} consecutive responses
     * @param lengths L_i (valid tokens of each response)
     * @param advantages A_i
     * @param alpha &gt; 0 ({@link #DEFAULT_ALPHA})
     */
    public static double[] compute(double[] correct, double[] lengths, double[] advantages, int groupSize,
                                   double alpha) {
        Groups.sameLength("lengths", lengths, "correct", correct);
        Groups.sameLength("advantages", advantages, "correct", correct);
        int groups = Groups.count("correct", correct.length, groupSize);
        Groups.finite("correct", correct);
        Groups.finite("lengths", lengths);
        Groups.finite("advantages", advantages);
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("alpha: expected a finite value > 0, got " + alpha);
        }
        double[] out = new double[correct.length];
        for (int g = 0; g < groups; g++) {
            double lengthSum = 0;
            int nCorrect = 0;
            for (int i = g * groupSize; i < (g + 1) * groupSize; i++) {
                if (correct[i] > 0.5) {
                    lengthSum += lengths[i];
                    nCorrect++;
                }
            }
            for (int i = g * groupSize; i < (g + 1) * groupSize; i++) {
                out[i] = 1.0;
                if (nCorrect == 0 || correct[i] > 0.5 || !(advantages[i] < 0)) {
                    continue;
                }
                double excess = lengths[i] - lengthSum / nCorrect;
                if (excess > 0) {
                    out[i] = 1 + (1 - Math.exp(-alpha * excess));
                }
            }
        }
        return out;
    }

    /** {@link #compute(double[], double[], double[], int, double)} with alpha = ln(1.00001). */
    public static double[] compute(double[] correct, double[] lengths, double[] advantages, int groupSize) {
        return compute(correct, lengths, advantages, groupSize, DEFAULT_ALPHA);
    }

    /** The shaped advantages w_i * A_i. */
    public static double[] apply(double[] advantages, double[] weights) {
        Groups.sameLength("weights", weights, "advantages", advantages);
        double[] out = new double[advantages.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = weights[i] * advantages[i];
        }
        return out;
    }
}
