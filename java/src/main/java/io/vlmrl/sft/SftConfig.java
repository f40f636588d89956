package io.vlmrl.sft;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code sft.*} keys: the supervised warm start. The rate warms up linearly over
 * {@code warmup_steps}, then decays along a cosine to {@code final_lr_fraction} x lr at the last step.
 * The defaults give the built-in model about 0.65 held-out accuracy on exact demonstrations in
 * ~90 s on 2 CPU cores; the image is only used after ~700 steps, and a rate of 3e-3 never gets
 * there (the model learns the answers' priors from the text and ignores the image).
 */
@Section("sft")
public record SftConfig(
        @Key(def = "1000", min = 0, max = 1_000_000, help = "supervised warm-start steps (0: none)")
        int steps,
        @Key(def = "32", min = 1, max = 65536, help = "problems per step")
        int batchSize,
        @Key(def = "3e-4", min = 1e-12, max = 1, help = "peak AdamW learning rate")
        double lr,
        @Key(def = "0.01", min = 0, max = 10, help = "AdamW weight decay of matrices and embeddings")
        double weightDecay,
        @Key(def = "10", min = 0, max = 1_000_000, help = "steps of linear learning-rate warm-up")
        int warmupSteps,
        @Key(def = "0.1", min = 0, max = 1, help = "learning rate at the last step, as a fraction of lr (cosine decay)")
        double finalLrFraction,
        @Key(def = "1.0", min = 0, max = 1e6, help = "max global gradient norm (0: no clipping)")
        double gradClip) {

    public static SftConfig defaults() {
        return Schema.defaults(SftConfig.class);
    }

    public SftConfig withSteps(int n) {
        return Schema.with(this, "steps=" + n);
    }

    public SftConfig withBatchSize(int n) {
        return Schema.with(this, "batch_size=" + n);
    }

    public SftConfig withLr(double v) {
        return Schema.with(this, "lr=" + v);
    }

    public SftConfig withWarmupSteps(int n) {
        return Schema.with(this, "warmup_steps=" + n);
    }
}
