package io.vlmrl.rl;

import java.util.List;

/** Reward, accuracy and length statistics over every sampled response of a step (kept or not). */
public record RolloutStats(double rewardMean, double rewardStd, double accuracy, double lengthMean,
                           double lengthMax, double clipRatio, long generatedTokens) {

    /** Number of values {@link #sums} returns. */
    static final int SUMS = 6;

    public static RolloutStats of(List<ScoredGroup> sampled) {
        return fromSums(sums(sampled), maxLength(sampled));
    }

    /**
     * The sums behind the statistics: responses, Σ reward, Σ reward², Σ correct, Σ length,
     * truncated responses (summed over the ranks of a data-parallel run).
     */
    static double[] sums(List<ScoredGroup> sampled) {
        long n = 0, tokens = 0, truncated = 0;
        double sumR = 0, sumR2 = 0, sumAcc = 0;
        for (ScoredGroup g : sampled) {
            for (int i = 0; i < g.size(); i++) {
                n++;
                sumR += g.rewards()[i];
                sumR2 += g.rewards()[i] * g.rewards()[i];
                sumAcc += g.correct()[i] ? 1 : 0;
                tokens += g.length(i);
                if (g.truncated()[i]) truncated++;
            }
        }
        return new double[] {n, sumR, sumR2, sumAcc, tokens, truncated};
    }

    /** The longest sampled response (the maximum over the ranks of a data-parallel run). */
    static int maxLength(List<ScoredGroup> sampled) {
        int maxLen = 0;
        for (ScoredGroup g : sampled) {
            for (int i = 0; i < g.size(); i++) maxLen = Math.max(maxLen, g.length(i));
        }
        return maxLen;
    }

    /** The statistics of {@link #sums} and {@link #maxLength}. */
    static RolloutStats fromSums(double[] sums, double maxLength) {
        double n = sums[0];
        if (n == 0) return new RolloutStats(0, 0, 0, 0, 0, 0, 0);
        double mean = sums[1] / n;
        double var = Math.max(0, sums[2] / n - mean * mean);
        return new RolloutStats(mean, Math.sqrt(var), sums[3] / n, sums[4] / n, maxLength, sums[5] / n, (long) sums[4]);
    }
}
