package io.vlmrl.model;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code model.*} keys: where the policy comes from ({@code model.path}: a checkpoint
 * directory, vlmrl's own or a Hugging Face Qwen2.5-VL / Qwen2-VL one) or, without it, the sizes of
 * a fresh built-in model ({@link VlmConfig} holds the rest of its fixed sizes).
 */
@Section("model")
public record ModelConfig(
        @Key(def = "", help = "the initial policy: a model directory (vlmrl checkpoint or Hugging Face Qwen2.5-VL / Qwen2-VL); empty: a fresh built-in model")
        String path,
        @Key(def = "48", min = 8, max = 1024, help = "built-in model: input image side in pixels (images are resized to it)")
        int imageSize,
        // 12-pixel patches, unmerged: one image token per cell of the built-in task's 4x4 grid of
        // 12-pixel cells. 8-pixel patches merged 2x2 straddle cells, and that model learned to
        // ignore the image altogether (held-out loss unchanged with shuffled images).
        @Key(def = "12", min = 1, max = 256, help = "built-in model: vision patch side in pixels")
        int patchSize,
        @Key(def = "1", min = 1, max = 64, help = "built-in model: side of the window of patches merged into one image token")
        int mergeSize,
        @Key(def = "64", min = 8, max = 4096, help = "built-in model: vision transformer width")
        int visionWidth,
        @Key(def = "2", min = 1, max = 64, help = "built-in model: vision transformer blocks")
        int visionLayers,
        @Key(def = "128", min = 8, max = 8192, help = "built-in model: language model width")
        int hiddenSize,
        @Key(def = "3", min = 1, max = 128, help = "built-in model: language model decoder layers")
        int layers,
        @Key(def = "4", min = 1, max = 128, help = "built-in model: language model attention heads")
        int heads,
        @Key(def = "352", min = 8, max = 65536, help = "built-in model: SwiGLU MLP hidden size")
        int intermediateSize,
        @Key(def = "false", help = "train the language model only (the vision tower and merger stay fixed)")
        boolean freezeVision,
        @Key(def = "true", help = "built-in model: the G samples of a prompt decode from one prefill, and training runs "
                + "each distinct prompt (image and tokens) once per micro-batch, its responses attending to it; false repeats "
                + "both per response (same results; for comparisons)")
        boolean sharePromptCompute,
        @Key(def = "float32", help = "loaded Hugging Face model: parameter dtype, float32 or bfloat16 (the loss math stays float32)")
        WeightDtype dtype,
        @Key(def = "auto", help = "loaded Hugging Face model: dtype of saved weights, auto (the checkpoint's own), float32 or bfloat16")
        SaveDtype saveDtype,
        @Key(def = "5000", min = 1, max = 1_000_000,
                help = "loaded Hugging Face model: largest safetensors shard when saving, in MB (5000 = transformers' 5GB)")
        int saveShardMb) {

    /** The keys that apply to a loaded model (all others size a fresh built-in model). */
    private static final java.util.Set<String> LOADED_MODEL_KEYS = java.util.Set.of(
            "model.path", "model.freeze_vision", "model.dtype", "model.save_dtype", "model.save_shard_mb");

    public ModelConfig {
        if (path.isEmpty() && dtype != WeightDtype.FLOAT32) {
            throw new IllegalArgumentException("config key 'model.dtype': " + dtype.configName() + " applies to a loaded "
                    + "Hugging Face model (model.path); the fresh built-in model trains in float32, got model.path ''");
        }
    }

    public static ModelConfig defaults() {
        return Schema.defaults(ModelConfig.class);
    }

    /** {@link #saveShardMb()} in bytes (1 MB = 10^6 bytes, as transformers' "5GB"). */
    public long saveShardBytes() {
        return saveShardMb * 1_000_000L;
    }

    /** True when the policy is loaded from {@link #path()} rather than created fresh. */
    public boolean loaded() {
        return !path.isEmpty();
    }

    /** The keys that size a fresh built-in model (they do not apply to a loaded one). */
    public static boolean sizesBuiltinModel(String key) {
        return key.startsWith("model.") && !LOADED_MODEL_KEYS.contains(key);
    }
}
