package io.vlmrl.bench;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.loss.Aggregation;
import io.vlmrl.loss.KlEstimator;
import io.vlmrl.loss.PolicyLossConfig;

/**
 * The policy-loss configurations the benchmark compares (docs/algorithms.md "Clipped policy loss",
 * "AAAC", "KL penalty", "DADS"). All use token-mean aggregation and fp32 inputs.
 */
public enum PolicyLossCase {
    PPO("ppo", 0.2f, 0.2f, false, false),
    CLIP_HIGHER("clip-higher", 0.2f, 0.28f, false, false),
    AAAC("aaac", 0.2f, Float.NaN, true, false),
    AAAC_K3_DADS("aaac-k3-dads", 0.2f, Float.NaN, true, true);

    /** AAAC range of eps_high (project defaults). */
    public static final float AAAC_EPS_MIN = 0.20f;
    public static final float AAAC_EPS_MAX = 0.32f;
    /** KL weight beta (the grpo/apo presets' 1e-3). */
    public static final float KL_BETA = 1e-3f;
    public static final float LOGRATIO_CLAMP = 20f;
    public static final float KL_CLAMP = 20f;
    public static final float K3_CLAMP = 10f;

    private final String id;
    private final float epsLow;
    private final float epsHigh;
    private final boolean aaac;
    private final boolean k3WithDads;

    PolicyLossCase(String id, float epsLow, float epsHigh, boolean aaac, boolean k3WithDads) {
        this.id = id;
        this.epsLow = epsLow;
        this.epsHigh = epsHigh;
        this.aaac = aaac;
        this.k3WithDads = k3WithDads;
    }

    /** The name used in JMH parameters and result tables. */
    public String id() {
        return id;
    }

    public float epsLow() {
        return epsLow;
    }

    /** Fixed upper clip; NaN for AAAC, whose upper clip is per token. */
    public float epsHigh() {
        return epsHigh;
    }

    public boolean aaac() {
        return aaac;
    }

    /** True when the loss adds beta * k3 KL to the reference, weighted per response (DADS). */
    public boolean k3WithDads() {
        return k3WithDads;
    }

    /**
     * Minimal bytes per token a single fused pass must move: read logp, old, adv (4 B each)
     * and mask (1 B), write d loss / d logp (4 B); with KL also read ref (4 B). The DADS
     * weights are per response ([B] floats), negligible per token.
     */
    public int bytesPerToken() {
        return 4 + 4 + 4 + 1 + 4 + (k3WithDads ? 4 : 0);
    }

    /** The library's config for this case, running on {@code backend}. */
    public PolicyLossConfig libraryConfig(KernelBackend backend) {
        PolicyLossConfig.Builder builder = aaac ? PolicyLossConfig.aaac()
                : this == CLIP_HIGHER ? PolicyLossConfig.clipHigher() : PolicyLossConfig.ppo();
        builder.epsLow(epsLow).aaacEpsMin(AAAC_EPS_MIN).aaacEpsMax(AAAC_EPS_MAX)
                .logRatioClamp(LOGRATIO_CLAMP).klClamp(KL_CLAMP).k3Clamp(K3_CLAMP)
                .aggregation(Aggregation.TOKEN_MEAN).backend(backend);
        if (!aaac) {
            builder.epsHigh(epsHigh);
        }
        if (k3WithDads) {
            builder.klEstimator(KlEstimator.K3).klBeta(KL_BETA).klAggregation(Aggregation.TOKEN_MEAN);
        }
        return builder.build();
    }

    public static PolicyLossCase fromId(String id) {
        for (PolicyLossCase c : values()) {
            if (c.id.equals(id)) {
                return c;
            }
        }
        throw new IllegalArgumentException("policy loss case: expected one of ppo, clip-higher, aaac, aaac-k3-dads, got " + id);
    }
}
