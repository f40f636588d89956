package io.vlmrl.loss;

import io.vlmrl.kernels.TensorChecks;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Statistics of the advantage over the valid tokens of a whole rollout batch, for AAAC
 * (docs/algorithms.md, "AAAC"). Compute them once per rollout batch with {@link #of} and pass the
 * same object with every micro-batch, so micro-batching never changes a token's clip bound.
 *
 * @param min smallest A over valid tokens
 * @param max largest A
 * @param mean mean of A
 * @param std population standard deviation of A (divides by the token count: the z-score
 *        places a token within this batch's token distribution)
 */
public record AdvantageStats(double min, double max, double mean, double std) {

    public AdvantageStats {
        if (!Double.isFinite(min) || !Double.isFinite(max) || !Double.isFinite(mean) || !Double.isFinite(std)) {
            throw new IllegalArgumentException("AdvantageStats: expected finite values, got " + min + ", " + max
                    + ", " + mean + ", " + std);
        }
        if (max < min || std < 0) {
            throw new IllegalArgumentException("AdvantageStats: expected min <= max and std >= 0, got min " + min
                    + ", max " + max + ", std " + std);
        }
    }

    /**
     * The statistics of {@code adv} over the tokens where {@code mask} is non-zero.
     *
     * @param adv [B] (one value per response) or [B, T], any float dtype
     * @param mask [B, T], bool or 0/1 numbers
     * @return all zeros when no token is valid
     * @throws IllegalArgumentException for mismatched shapes or a non-finite valid advantage
     */
    public static AdvantageStats of(Tensor adv, Tensor mask) {
        TensorChecks.requireNonNull("adv", adv);
        TensorChecks.requireNonNull("mask", mask);
        TensorChecks.requireDim("mask", mask, 2, "[B, T]");
        long b = mask.size(0);
        long t = mask.size(1);
        Tensor perToken;
        if (adv.dim() == 1) {
            TensorChecks.requireShape("adv", adv, new long[] {b}, "[B] with B from mask");
            perToken = adv.unsqueeze(1).expand(b, t);
        } else {
            TensorChecks.requireShape("adv", adv, new long[] {b, t}, "same as mask");
            perToken = adv;
        }
        TensorChecks.requireSameDevice("adv", adv, "mask", mask);
        Tensor valid = mask.ne(new org.bytedeco.pytorch.Scalar(0));
        Tensor values = perToken.to(ScalarType.Double).masked_select(valid);
        long n = values.numel();
        if (n == 0) {
            return new AdvantageStats(0, 0, 0, 0);
        }
        long bad = TensorChecks.firstNonFinite(perToken, valid);
        if (bad >= 0) {
            throw TensorChecks.nonFinite("adv", perToken.contiguous(), bad);
        }
        double mean = values.mean().item_double();
        double var = values.sub(new org.bytedeco.pytorch.Scalar(mean)).square().mean().item_double();
        return new AdvantageStats(values.min().item_double(), values.max().item_double(), mean, Math.sqrt(var));
    }

    /** The kernel's {@code adv_stat_a}: min (minmax) or mean (zscore-cdf). */
    public double statA(AaacNormalization normalization) {
        return normalization == AaacNormalization.MINMAX ? min : mean;
    }

    /** The kernel's {@code adv_stat_b}: max (minmax) or std (zscore-cdf). */
    public double statB(AaacNormalization normalization) {
        return normalization == AaacNormalization.MINMAX ? max : std;
    }
}
