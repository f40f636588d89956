package io.vlmrl.loss;

import io.vlmrl.config.ConfigName;
import io.vlmrl.config.ConfigNames;
import io.vlmrl.kernels.NativeKernels;

/** How per-token losses become one number (docs/algorithms.md, "Loss aggregation"). */
public enum Aggregation implements ConfigName {
    /** Sum of loss * mask / total valid tokens of the mini-batch. */
    TOKEN_MEAN("token-mean", NativeKernels.VLMRL_AGG_TOKEN_MEAN),
    /** Mean over non-empty responses of the per-response token sum. */
    SEQ_MEAN_TOKEN_SUM("seq-mean-token-sum", NativeKernels.VLMRL_AGG_SEQ_MEAN_TOKEN_SUM),
    /** Mean over non-empty responses of the per-response token mean. */
    SEQ_MEAN_TOKEN_MEAN("seq-mean-token-mean", NativeKernels.VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN),
    /** Sum of loss * mask / (responses * L_max) (Dr. GRPO). */
    SEQ_MEAN_TOKEN_SUM_NORM("seq-mean-token-sum-norm", NativeKernels.VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM);

    private final String configName;
    private final int nativeCode;

    Aggregation(String configName, int nativeCode) {
        this.configName = configName;
        this.nativeCode = nativeCode;
    }

    /** The configuration name, e.g. {@code token-mean}. */
    @Override
    public String configName() {
        return configName;
    }

    /** The {@code VLMRL_AGG_*} constant. */
    public int nativeCode() {
        return nativeCode;
    }

    /** Parses a configuration name such as {@code seq-mean-token-mean}. */
    public static Aggregation parse(String name) {
        return ConfigNames.parse(Aggregation.class, "aggregation", name);
    }
}
