package io.vlmrl.loss;

import io.vlmrl.config.ConfigName;
import io.vlmrl.config.ConfigNames;
import io.vlmrl.kernels.NativeKernels;

/** Estimator of the KL divergence to the reference policy (docs/algorithms.md, "KL penalty"). */
public enum KlEstimator implements ConfigName {
    /** No KL term. */
    NONE("none", NativeKernels.VLMRL_KL_NONE),
    /** {@code -delta}, delta = ref - logp. */
    K1("k1", NativeKernels.VLMRL_KL_K1),
    /** {@code delta^2 / 2}. */
    K2("k2", NativeKernels.VLMRL_KL_K2),
    /** {@code e^delta - delta - 1} (low variance), clamped. */
    K3("k3", NativeKernels.VLMRL_KL_K3);

    private final String configName;
    private final int nativeCode;

    KlEstimator(String configName, int nativeCode) {
        this.configName = configName;
        this.nativeCode = nativeCode;
    }

    @Override
    public String configName() {
        return configName;
    }

    public int nativeCode() {
        return nativeCode;
    }

    /**
     * Parses {@code none}, {@code k1}, {@code k2} or {@code k3}, and verl's names for the same
     * estimators: {@code kl} (k1), {@code mse} (k2), {@code low_var_kl} (k3).
     */
    public static KlEstimator parse(String name) {
        String canonical = switch (name == null ? "" : name) {
            case "kl" -> "k1";
            case "mse" -> "k2";
            case "low_var_kl" -> "k3";
            default -> name;
        };
        return ConfigNames.parse(KlEstimator.class, "klEstimator", canonical);
    }
}
