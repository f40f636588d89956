package io.vlmrl.bench;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * The policy loss written the way a Java user would write it with LibTorch eager ops and
 * autograd (docs/algorithms.md "Ratio", "Clipped policy loss", "AAAC", "KL penalty", token-mean
 * aggregation). Each op is a separate pass over memory with its own temporary; autograd
 * keeps what backward needs. This is the benchmark's baseline, not the library's reference.
 */
public final class EagerPolicyLossBaseline {

    private EagerPolicyLossBaseline() {
    }

    /** The scalar loss; call backward() on it to get d loss / d logp in logp.grad(). */
    public static Tensor loss(PolicyLossCase lossCase, PolicyLossInputs in, Tensor logp) {
        Tensor maskF = in.mask.to(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        Tensor logRatio = logp.sub(in.old).clamp(opt(-PolicyLossCase.LOGRATIO_CLAMP), opt(PolicyLossCase.LOGRATIO_CLAMP));
        Tensor ratio = logRatio.exp();
        Tensor negAdv = in.adv.neg();
        Tensor unclipped = negAdv.mul(ratio);
        Tensor clippedRatio;
        if (lossCase.aaac()) {
            // eps_high per token from the min-max normalized advantage.
            float range = in.advMax - in.advMin;
            Tensor normAdv = range > 0
                    ? in.adv.sub(new Scalar(in.advMin)).div(new Scalar(range))
                    : in.adv.mul(new Scalar(0.0)).add(new Scalar(0.5));
            Tensor upper = normAdv.mul(new Scalar(PolicyLossCase.AAAC_EPS_MAX - PolicyLossCase.AAAC_EPS_MIN))
                    .add(new Scalar(1.0f + PolicyLossCase.AAAC_EPS_MIN));
            clippedRatio = org.bytedeco.pytorch.global.torch.minimum(
                    ratio.clamp_min(new Scalar(1.0f - lossCase.epsLow())), upper);
        } else {
            clippedRatio = ratio.clamp(opt(1.0f - lossCase.epsLow()), opt(1.0f + lossCase.epsHigh()));
        }
        Tensor perToken = org.bytedeco.pytorch.global.torch.maximum(unclipped, negAdv.mul(clippedRatio));
        Tensor loss = perToken.mul(maskF).sum().div(new Scalar(in.validTokens));
        if (lossCase.k3WithDads()) {
            Tensor delta = in.ref.sub(logp).clamp(opt(-PolicyLossCase.KL_CLAMP), opt(PolicyLossCase.KL_CLAMP));
            Tensor k3 = delta.exp().sub(delta).sub(new Scalar(1.0))
                    .clamp(opt(-PolicyLossCase.K3_CLAMP), opt(PolicyLossCase.K3_CLAMP));
            Tensor weighted = k3.mul(in.klWeight.unsqueeze(1)).mul(maskF);
            loss = loss.add(weighted.sum().div(new Scalar(in.validTokens)).mul(new Scalar(PolicyLossCase.KL_BETA)));
        }
        return loss;
    }

    private static ScalarOptional opt(float value) {
        return new ScalarOptional(new Scalar(value));
    }
}
