package io.vlmrl.loss;

import io.vlmrl.config.ConfigName;
import io.vlmrl.config.ConfigNames;
import io.vlmrl.kernels.NativeKernels;

/** How AAAC normalizes the advantage into [0, 1] (docs/algorithms.md, "AAAC"). */
public enum AaacNormalization implements ConfigName {
    /** (A - min) / (max - min) over the rollout batch's valid tokens; 0.5 when max = min. */
    MINMAX("minmax", NativeKernels.VLMRL_AAAC_MINMAX),
    /** Phi((A - mean) / std), Phi the standard normal CDF; 0.5 when std = 0. */
    ZSCORE_CDF("zscore-cdf", NativeKernels.VLMRL_AAAC_ZSCORE_CDF);

    private final String configName;
    private final int nativeCode;

    AaacNormalization(String configName, int nativeCode) {
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

    /** Parses {@code minmax} or {@code zscore-cdf}. */
    public static AaacNormalization parse(String name) {
        return ConfigNames.parse(AaacNormalization.class, "aaacNormalization", name);
    }
}
