package io.vlmrl.loss;

import io.vlmrl.kernels.CudaStreams;
import io.vlmrl.kernels.NativeKernels;
import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TensorChecks;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The clipped policy loss on the fused native kernel ({@code vlmrl_policy_loss_cpu}, or
 * {@code _cuda} for CUDA tensors on LibTorch's current stream): forward, backward and metric
 * sums in one pass over the tokens. All float inputs must be float32; the inputs are passed
 * by pointer (made contiguous first if they are not).
 *
 * <p>Nothing else reads the inputs: the non-finite check and every metric come from the kernel's
 * own pass (its result struct), the checks on the Java side look at shapes, dtypes and devices
 * only, and a bool mask is passed as is. What remains per call besides the kernel is the
 * gradient buffers, which {@link PolicyLossInputs.Builder#gradOutputs} lets a caller reuse.
 */
public final class FusedPolicyLoss {
    private FusedPolicyLoss() {
    }

    /** Runs the kernel with the given clip mode; see {@link PolicyLoss#compute} for the contract. */
    public static PolicyLossResult compute(PolicyLossInputs in, PolicyLossConfig cfg, ClipMode clip) {
        in.requireFor(cfg, clip);
        Tensor logp = float32("logp", in.logp());
        Tensor old = float32("old", in.old());
        Tensor adv = float32("adv", in.adv());
        Tensor mask = MaskChecks.asBool(in.mask());
        boolean klOn = cfg.klEnabled();
        Tensor ref = klOn ? float32("ref", in.ref()) : null;
        Tensor klWeights = in.klWeights() == null ? null : float32("klWeights", in.klWeights());
        Tensor entropy = in.entropy() == null ? null : float32("entropy", in.entropy());

        long rows = in.rows();
        long rowLength = in.rowLength();
        Tensor gradLogp = in.gradLogpOut() != null ? in.gradLogpOut() : torch.empty_like(logp);
        Tensor gradEntropy = entropy == null ? null
                : in.gradEntropyOut() != null ? in.gradEntropyOut() : torch.empty_like(entropy);
        boolean cuda = logp.is_cuda();
        Denominators d = in.denominators();

        try (NativeKernels.PolicyLossConfig c = new NativeKernels.PolicyLossConfig();
             NativeKernels.PolicyLossResult r = new NativeKernels.PolicyLossResult()) {
            c.n_rows(rows).row_len(rowLength).adv_per_token(in.advPerToken() ? 1 : 0)
                    .clip_mode(clip.nativeCode()).eps_low((float) cfg.epsLow()).eps_high((float) cfg.epsHigh())
                    .aaac_norm(cfg.aaacNormalization().nativeCode())
                    .aaac_eps_min((float) cfg.aaacEpsMin()).aaac_eps_max((float) cfg.aaacEpsMax())
                    .dual_clip(cfg.dualClip() ? 1 : 0).dual_clip_c((float) cfg.dualClipC())
                    .kl_mode(cfg.klEstimator().nativeCode()).kl_beta((float) cfg.klBeta())
                    .kl_agg_mode(cfg.klAggregation().nativeCode()).kl_denom(d.forMode(cfg.klAggregation()))
                    .entropy_coef((float) cfg.entropyCoef())
                    .agg_mode(cfg.aggregation().nativeCode()).denom(d.forMode(cfg.aggregation()))
                    .logratio_clamp((float) cfg.logRatioClamp()).kl_clamp((float) cfg.klClamp())
                    .k3_clamp((float) cfg.k3Clamp()).nonfinite_policy(cfg.nonFinitePolicy().nativeCode())
                    .adv_size_split((float) cfg.clipfracAdvSplit());
            if (clip == ClipMode.AAAC) {
                AdvantageStats s = in.advantageStats();
                c.adv_stat_a((float) s.statA(cfg.aaacNormalization())).adv_stat_b((float) s.statB(cfg.aaacNormalization()));
            }
            if (rows * rowLength > 0) {
                int code = cuda ? runCuda(c, logp, old, adv, mask, ref, klWeights, entropy, gradLogp, gradEntropy, r)
                        : NativeKernels.vlmrl_policy_loss_cpu(c, ptr(logp), ptr(old), ptr(adv), ptr(mask), ptr(ref),
                                ptr(klWeights), ptr(entropy), ptr(gradLogp), ptr(gradEntropy), r);
                NativeKernels.check(code, cuda ? "vlmrl_policy_loss_cuda" : "vlmrl_policy_loss_cpu");
            }
            if (r.nonfinite_count() > 0 && cfg.nonFinitePolicy() == NonFinitePolicy.ERROR) {
                throw nonFinite(r.first_nonfinite(), r.first_nonfinite_input(), in, rowLength);
            }
            PolicyLossMetrics metrics = new PolicyLossMetrics(r.loss(), r.pg_loss(), r.kl_loss(), r.entropy_loss(),
                    r.n_valid(), r.n_clip_upper(), r.n_clip_lower(), r.n_dual_clip(), r.sum_ppo_kl(), r.sum_kl(),
                    r.sum_eps_high(), r.sum_ratio(), r.sum_entropy(), r.nonfinite_count(), entropy != null,
                    new ClipClasses(r.n_adv_pos(), r.n_adv_neg(), r.n_adv_pos_large(), r.n_adv_neg_large(),
                            r.n_clip_upper_adv_large(), r.n_clip_lower_adv_large()));
            return new PolicyLossResult(r.loss(), gradLogp, gradEntropy, metrics, false);
        }
    }

    private static int runCuda(NativeKernels.PolicyLossConfig c, Tensor logp, Tensor old, Tensor adv, Tensor mask,
                               Tensor ref, Tensor klWeights, Tensor entropy, Tensor gradLogp, Tensor gradEntropy,
                               NativeKernels.PolicyLossResult r) {
        try (Pointer guard = CudaStreams.deviceGuard(logp)) {
            return NativeKernels.vlmrl_policy_loss_cuda(c, ptr(logp), ptr(old), ptr(adv), ptr(mask), ptr(ref),
                    ptr(klWeights), ptr(entropy), ptr(gradLogp), ptr(gradEntropy), r, CudaStreams.current(logp));
        }
    }

    private static Pointer ptr(Tensor t) {
        return t == null ? null : t.data_ptr();
    }

    private static Tensor float32(String name, Tensor t) {
        TensorChecks.requireDtype(name, t, ScalarType.Float);
        return t.detach().contiguous();
    }

    /** "old[2, 17] is NaN" for the kernel's first non-finite token and input. */
    private static IllegalArgumentException nonFinite(long token, int input, PolicyLossInputs in, long rowLength) {
        long row = token / rowLength;
        switch (input) {
            case NativeKernels.VLMRL_INPUT_LOGP: return TensorChecks.nonFinite("logp", in.logp().detach(), token);
            case NativeKernels.VLMRL_INPUT_OLD: return TensorChecks.nonFinite("old", in.old(), token);
            case NativeKernels.VLMRL_INPUT_ADV:
                return TensorChecks.nonFinite("adv", in.adv(), in.advPerToken() ? token : row);
            case NativeKernels.VLMRL_INPUT_REF: return TensorChecks.nonFinite("ref", in.ref(), token);
            case NativeKernels.VLMRL_INPUT_ENTROPY: return TensorChecks.nonFinite("entropy", in.entropy().detach(), token);
            case NativeKernels.VLMRL_INPUT_KL_WEIGHT: return TensorChecks.nonFinite("klWeights", in.klWeights(), row);
            default:
                return new IllegalArgumentException("a non-finite input at token " + TensorChecks.index(token,
                        new long[] {in.rows(), rowLength}) + " (input id " + input + ")");
        }
    }
}
