package io.vlmrl.rl;

import java.util.List;

/** Reward, accuracy and length statistics over every sampled response of a step (kept or not). */
public record RolloutStats(double rewardMean, double rewardStd, double accuracy, double lengthMean,
                           double lengthMax, double clipRatio, long generatedTokens) {

    public static RolloutStats of(List<ScoredGroup> sampled) {
        long n = 0, tokens = 0, truncated = 0;
        double sumR = 0, sumR2 = 0, sumAcc = 0;
        int maxLen = 0;
        for (ScoredGroup g : sampled) {
            for (int i = 0; i < g.size(); i++) {
                n++;
                sumR += g.rewards()[i];
                sumR2 += g.rewards()[i] * g.rewards()[i];
                sumAcc += g.correct()[i] ? 1 : 0;
                tokens += g.length(i);
                maxLen = Math.max(maxLen, g.length(i));
                if (g.truncated()[i]) truncated++;
            }
        }
        if (n == 0) return new RolloutStats(0, 0, 0, 0, 0, 0, 0);
        double mean = sumR / n;
        double var = Math.max(0, sumR2 / n - mean * mean);
        return new RolloutStats(mean, Math.sqrt(var), sumAcc / n, (double) tokens / n, maxLen,
                (double) truncated / n, tokens);
    }
}
