package io.vlmrl.loss;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sums behind the policy-loss metrics of one or more micro-batches. Add micro-batches up with
 * {@link #plus}; {@link #toMap()} turns the sums into the metrics of docs/algorithms.md.
 *
 * <p>{@code loss}, {@code pgLoss}, {@code klLoss} and {@code entropyLoss} are already divided by
 * the mini-batch denominators, so their sum over a mini-batch's micro-batches is the
 * mini-batch's value; the other fields are plain sums and counts over valid tokens.
 */
public record PolicyLossMetrics(
        double loss,
        double pgLoss,
        double klLoss,
        double entropyLoss,
        long validTokens,
        long clipUpper,
        long clipLower,
        long dualClip,
        double sumPpoKl,
        double sumKl,
        double sumEpsHigh,
        double sumRatio,
        double sumEntropy,
        long nonFiniteTokens,
        boolean hasEntropy,
        ClipClasses clipClasses) {

    /** Nothing yet: the identity of {@link #plus}. */
    public static PolicyLossMetrics empty() {
        return new PolicyLossMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, ClipClasses.empty());
    }

    /** The sums of this and {@code other} (e.g. two micro-batches of a mini-batch). */
    public PolicyLossMetrics plus(PolicyLossMetrics other) {
        return new PolicyLossMetrics(loss + other.loss, pgLoss + other.pgLoss, klLoss + other.klLoss,
                entropyLoss + other.entropyLoss, validTokens + other.validTokens, clipUpper + other.clipUpper,
                clipLower + other.clipLower, dualClip + other.dualClip, sumPpoKl + other.sumPpoKl,
                sumKl + other.sumKl, sumEpsHigh + other.sumEpsHigh, sumRatio + other.sumRatio,
                sumEntropy + other.sumEntropy, nonFiniteTokens + other.nonFiniteTokens,
                hasEntropy || other.hasEntropy, clipClasses.plus(other.clipClasses));
    }

    /**
     * The metrics, by their logged names: {@code loss, pg_loss, pg_clipfrac, pg_clipfrac_higher,
     * pg_clipfrac_lower, dual_clipfrac, ppo_kl, kl_loss, kl/mean, eps_high/mean, ratio/mean,
     * entropy} (only with an entropy input){@code , valid_tokens, nonfinite_tokens}. Fractions and
     * means are over valid tokens (0 when there are none), except the clip fractions by advantage
     * size: {@code pg_clipfrac_higher/adv_large} is the share of upper clips among the valid tokens
     * with {@code A >= split}, {@code .../adv_small} among those with {@code 0 < A < split}, and
     * {@code pg_clipfrac_lower/adv_large|adv_small} the same for {@code A <= -split} and
     * {@code -split < A < 0}; {@code adv_large/frac} is the share of valid tokens with
     * {@code |A| >= split} ({@link ClipClasses}).
     */
    public Map<String, Double> toMap() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("loss", loss);
        m.put("pg_loss", pgLoss);
        m.put("pg_clipfrac", perToken(clipUpper + clipLower));
        m.put("pg_clipfrac_higher", perToken(clipUpper));
        m.put("pg_clipfrac_lower", perToken(clipLower));
        m.put("pg_clipfrac_higher/adv_large", ratio(clipClasses.clipUpperLarge(), clipClasses.advPosLarge()));
        m.put("pg_clipfrac_higher/adv_small", ratio(clipUpper - clipClasses.clipUpperLarge(),
                clipClasses.advPos() - clipClasses.advPosLarge()));
        m.put("pg_clipfrac_lower/adv_large", ratio(clipClasses.clipLowerLarge(), clipClasses.advNegLarge()));
        m.put("pg_clipfrac_lower/adv_small", ratio(clipLower - clipClasses.clipLowerLarge(),
                clipClasses.advNeg() - clipClasses.advNegLarge()));
        m.put("adv_large/frac", perToken(clipClasses.advPosLarge() + clipClasses.advNegLarge()));
        m.put("dual_clipfrac", perToken(dualClip));
        m.put("ppo_kl", perToken(sumPpoKl));
        m.put("kl_loss", klLoss);
        m.put("kl/mean", perToken(sumKl));
        m.put("eps_high/mean", perToken(sumEpsHigh));
        m.put("ratio/mean", perToken(sumRatio));
        if (hasEntropy) {
            m.put("entropy", perToken(sumEntropy));
        }
        m.put("valid_tokens", (double) validTokens);
        m.put("nonfinite_tokens", (double) nonFiniteTokens);
        return m;
    }

    private double perToken(double sum) {
        return ratio(sum, validTokens);
    }

    private static double ratio(double count, double tokens) {
        return tokens == 0 ? 0.0 : count / tokens;
    }
}
