package io.vlmrl.model;

import io.vlmrl.config.ConfigName;
import org.bytedeco.pytorch.global.torch;

/**
 * The element type a loaded model holds its parameters in ({@code model.dtype}). The loss math
 * stays float32 either way: a policy casts its hidden states to float32 before the LM head, so
 * log-probs, ratios and the loss are float32 (see {@code QwenPolicy#responseLogits}).
 */
public enum WeightDtype implements ConfigName {
    /** 4 bytes per parameter: exact updates, twice the memory. */
    FLOAT32("float32", torch.ScalarType.Float),
    /** 2 bytes per parameter, as Qwen checkpoints ship; forward and backward run in bfloat16. */
    BFLOAT16("bfloat16", torch.ScalarType.BFloat16);

    private final String configName;
    private final torch.ScalarType scalarType;

    WeightDtype(String configName, torch.ScalarType scalarType) {
        this.configName = configName;
        this.scalarType = scalarType;
    }

    @Override
    public String configName() {
        return configName;
    }

    /** The LibTorch element type. */
    public torch.ScalarType scalarType() {
        return scalarType;
    }
}
