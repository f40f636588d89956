package io.vlmrl.bench;

import io.vlmrl.kernels.NativeKernels;
import io.vlmrl.kernels.NativeKernels.PolicyLossConfig;
import io.vlmrl.kernels.NativeKernels.PolicyLossResult;
import org.bytedeco.pytorch.Tensor;

/**
 * One call of the fused CPU policy-loss kernel (forward and backward in a single pass) on
 * the benchmark's inputs, through the JavaCPP binding. The config mirrors
 * {@link EagerPolicyLossBaseline}'s math exactly: token-mean aggregation over the valid
 * tokens, per-token advantages, AAAC min-max normalization, k3 KL weighted per response.
 */
public final class FusedPolicyLossKernel implements AutoCloseable {

    private final PolicyLossInputs in;
    private final PolicyLossConfig config = new PolicyLossConfig();
    private final PolicyLossResult result = new PolicyLossResult();

    public FusedPolicyLossKernel(PolicyLossCase lossCase, PolicyLossInputs in) {
        this.in = in;
        config.n_rows(in.rows).row_len(in.rowLen).adv_per_token(1)
                .eps_low(lossCase.epsLow())
                .agg_mode(NativeKernels.VLMRL_AGG_TOKEN_MEAN).denom(in.validTokens)
                .logratio_clamp(PolicyLossCase.LOGRATIO_CLAMP)
                .kl_clamp(PolicyLossCase.KL_CLAMP)
                .k3_clamp(PolicyLossCase.K3_CLAMP)
                .nonfinite_policy(NativeKernels.VLMRL_NONFINITE_ERROR);
        if (lossCase.aaac()) {
            config.clip_mode(NativeKernels.VLMRL_CLIP_AAAC).aaac_norm(NativeKernels.VLMRL_AAAC_MINMAX)
                    .aaac_eps_min(PolicyLossCase.AAAC_EPS_MIN).aaac_eps_max(PolicyLossCase.AAAC_EPS_MAX)
                    .adv_stat_a(in.advMin).adv_stat_b(in.advMax);
        } else {
            config.clip_mode(lossCase == PolicyLossCase.PPO ? NativeKernels.VLMRL_CLIP_PPO : NativeKernels.VLMRL_CLIP_HIGHER)
                    .eps_high(lossCase.epsHigh());
        }
        if (lossCase.k3WithDads()) {
            config.kl_mode(NativeKernels.VLMRL_KL_K3).kl_beta(PolicyLossCase.KL_BETA)
                    .kl_agg_mode(NativeKernels.VLMRL_AGG_TOKEN_MEAN).kl_denom(in.validTokens);
        } else {
            config.kl_mode(NativeKernels.VLMRL_KL_NONE);
        }
    }

    /** Runs the kernel on {@code logp}, writing d loss / d logp into {@code gradLogp}; returns the loss. */
    public double run(Tensor logp, Tensor gradLogp) {
        boolean kl = config.kl_mode() != NativeKernels.VLMRL_KL_NONE;
        int code = NativeKernels.vlmrl_policy_loss_cpu(config,
                logp.data_ptr(), in.old.data_ptr(), in.adv.data_ptr(), in.mask.data_ptr(),
                kl ? in.ref.data_ptr() : null, kl ? in.klWeight.data_ptr() : null,
                null, gradLogp.data_ptr(), null, result);
        NativeKernels.check(code, "vlmrl_policy_loss_cpu");
        return result.loss();
    }

    @Override
    public void close() {
        config.close();
        result.close();
    }
}
