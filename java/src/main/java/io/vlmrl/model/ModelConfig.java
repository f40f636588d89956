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
        boolean freezeVision) {

    public static ModelConfig defaults() {
        return Schema.defaults(ModelConfig.class);
    }

    /** True when the policy is loaded from {@link #path()} rather than created fresh. */
    public boolean loaded() {
        return !path.isEmpty();
    }

    /** The keys that size a fresh built-in model (they do not apply to a loaded one). */
    public static boolean sizesBuiltinModel(String key) {
        return key.startsWith("model.") && !key.equals("model.path") && !key.equals("model.freeze_vision");
    }
}
