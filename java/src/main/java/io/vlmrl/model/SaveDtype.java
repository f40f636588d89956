package io.vlmrl.model;

import io.vlmrl.config.ConfigName;
import io.vlmrl.hf.SafeDtype;

/**
 * The element type a loaded Hugging Face model is saved in ({@code model.save_dtype}): by default
 * the one its checkpoint was stored in, so a bf16 hub checkpoint stays bf16 (half the disk, what
 * vLLM and transformers expect), whatever {@code model.dtype} the run trained in.
 */
public enum SaveDtype implements ConfigName {
    /** The dtype of the checkpoint the model was loaded from. */
    AUTO("auto", null),
    FLOAT32("float32", SafeDtype.F32),
    BFLOAT16("bfloat16", SafeDtype.BF16);

    private final String configName;
    private final SafeDtype safeDtype;

    SaveDtype(String configName, SafeDtype safeDtype) {
        this.configName = configName;
        this.safeDtype = safeDtype;
    }

    @Override
    public String configName() {
        return configName;
    }

    /** The safetensors dtype, or null for {@link #AUTO} (the checkpoint's). */
    public SafeDtype safeDtype() {
        return safeDtype;
    }
}
