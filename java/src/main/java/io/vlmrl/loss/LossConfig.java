package io.vlmrl.loss;

import io.vlmrl.algo.Advantages;
import io.vlmrl.algo.DadsWeights;
import io.vlmrl.algo.StcrWeights;
import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;
import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.NonFinitePolicy;

/**
 * The {@code loss.*} keys: advantages, the clipped policy loss, the KL term and APO's weights
 * (docs/algorithms.md). The defaults are the {@code ppo} preset's; the other presets override a few
 * of them ({@code io.vlmrl.run.Presets}).
 */
@Section("loss")
public record LossConfig(
        @Key(def = "grpo", registry = Advantages.class, help = "advantage estimator: grpo, drgrpo, rloo or a registered one")
        String advantage,
        @Key(def = "ppo", registry = PolicyLossRegistry.class,
                help = "policy loss: ppo, clip-higher (DAPO), aaac (ACPO) or a registered one")
        String mode,
        @Key(def = "0.2", min = 0, max = 0.999999, help = "lower clip: rho >= 1 - eps_low")
        double epsLow,
        @Key(def = "0.2", min = 0, max = 10, help = "upper clip of ppo / clip-higher: rho <= 1 + eps_high")
        double epsHigh,
        @Key(def = "minmax", help = "AAAC advantage normalization")
        AaacNormalization aaacNorm,
        @Key(def = "0.2", min = 0, max = 10, help = "AAAC eps_high at normalized advantage 0")
        double aaacEpsMin,
        @Key(def = "0.32", min = 0, max = 10, help = "AAAC eps_high at normalized advantage 1 (>= aaac_eps_min)")
        double aaacEpsMax,
        @Key(def = "false", help = "bound the loss of negative-advantage tokens by -A*c")
        boolean dualClip,
        @Key(def = "3.0", min = 1.0000001, max = 1e6, help = "dual clip constant c > 1")
        double dualClipC,
        @Key(def = "none", help = "KL estimator to the reference policy (verl's kl, mse, low_var_kl are k1, k2, k3)")
        KlEstimator kl,
        @Key(def = "0.0", min = 0, max = 1000, help = "weight beta of the KL term")
        double klBeta,
        @Key(def = "token-mean", help = "aggregation of the KL term")
        Aggregation klAggregation,
        @Key(def = "token-mean", help = "aggregation of the policy loss")
        Aggregation aggregation,
        @Key(def = "0.0", min = -10, max = 10, help = "entropy bonus coefficient (the loss subtracts coef * entropy)")
        double entropyCoef,
        @Key(def = "false", help = "DADS per-response KL weights (APO)")
        boolean dads,
        @Key(def = "" + DadsWeights.DEFAULT_KAPPA, min = 1e-12, max = 1000, help = "DADS kappa")
        double dadsKappa,
        @Key(def = "false", help = "STCR scaling of the negative advantages of wrong, overlong answers (APO)")
        boolean stcr,
        @Key(def = "" + StcrWeights.DEFAULT_ALPHA, min = 1e-12, max = 1000, help = "STCR alpha (default ln 1.00001)")
        double stcrAlpha,
        @Key(def = "20", min = 1e-6, max = 100, help = "clamp of logp - old before exp")
        double logRatioClamp,
        @Key(def = "20", min = 1e-6, max = 100, help = "clamp of ref - logp in the KL estimators")
        double klClamp,
        @Key(def = "10", min = 1e-6, max = 1000, help = "clamp of the k3 value")
        double k3Clamp,
        @Key(def = "error", help = "a non-finite log-prob of a valid token: error (name it) or mask (count it)")
        NonFinitePolicy nonFinite,
        @Key(def = "1.0", min = 0, max = 1e6, help = "metrics only: tokens with |A| >= this count as large-advantage in the "
                + "clip fractions by advantage size (pg_clipfrac_*/adv_large, adv_small)")
        double clipfracAdvSplit) {

    public LossConfig {
        if (aaacEpsMin > aaacEpsMax) {
            throw new IllegalArgumentException("config key 'loss.aaac_eps_max': expected a number >= loss.aaac_eps_min ("
                    + aaacEpsMin + "), got '" + aaacEpsMax + "'");
        }
    }

    /** Every key at its default (the ppo preset). */
    public static LossConfig defaults() {
        return Schema.defaults(LossConfig.class);
    }

    /** True when the loss has a KL term (and so needs a reference policy). */
    public boolean klEnabled() {
        return kl != KlEstimator.NONE;
    }

    /**
     * The settings of one call of the loss kernels. For {@code aaac} the upper bound
     * {@code epsHigh} is the widest AAAC bound, {@code aaac_eps_max}.
     */
    public PolicyLossConfig policyLossConfig(KernelBackend backend) {
        return PolicyLossConfig.builder()
                .lossMode(mode)
                .epsLow(epsLow)
                .epsHigh(mode.equals("aaac") ? aaacEpsMax : epsHigh)
                .aaacNormalization(aaacNorm)
                .aaacEpsMin(aaacEpsMin)
                .aaacEpsMax(aaacEpsMax)
                .dualClip(dualClip)
                .dualClipC(dualClipC)
                .klEstimator(kl)
                .klBeta(klBeta)
                .klAggregation(klAggregation)
                .aggregation(aggregation)
                .entropyCoef(entropyCoef)
                .logRatioClamp(logRatioClamp)
                .klClamp(klClamp)
                .k3Clamp(k3Clamp)
                .nonFinitePolicy(nonFinite)
                .clipfracAdvSplit(clipfracAdvSplit)
                .backend(backend)
                .build();
    }
}
