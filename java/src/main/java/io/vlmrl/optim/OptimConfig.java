package io.vlmrl.optim;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/** The {@code optim.*} keys: the RL optimizer (AdamW) and how a step's responses are batched for it. */
@Section("optim")
public record OptimConfig(
        @Key(def = "1e-5", min = 0, max = 1, help = "AdamW learning rate")
        double lr,
        @Key(def = "20", min = 0, max = 1_000_000,
                help = "steps of linear learning-rate warm-up (a fresh AdamW's first updates are sign-like)")
        int warmupSteps,
        @Key(def = "0.0", min = 0, max = 10, help = "AdamW weight decay of matrices and embeddings (not biases or norms)")
        double weightDecay,
        @Key(def = "0.9", min = 0, max = 0.999999, help = "AdamW beta1")
        double beta1,
        @Key(def = "0.999", min = 0, max = 0.999999, help = "AdamW beta2")
        double beta2,
        @Key(def = "1e-8", min = 1e-12, max = 1, help = "AdamW epsilon")
        double eps,
        @Key(def = "1.0", min = 0, max = 1e6, help = "max global gradient norm (0: no clipping)")
        double gradClip,
        @Key(def = "64", min = 1, max = 1 << 20, help = "responses per optimizer update")
        int miniBatchSize,
        @Key(def = "32", min = 1, max = 1 << 20, help = "responses per forward/backward (<= mini_batch_size)")
        int microBatchSize,
        @Key(def = "stop", help = "a NaN or infinite loss or gradient norm: stop (naming the step and the quantity) or skip the update")
        OnNonFinite onNonFinite,
        @Key(def = "0.01", min = 0, max = 100,
                help = "warn (once) when the policy's mean token entropy falls below this many nats (0: never)")
        double entropyWarning) {

    /** What an update with a non-finite loss or gradient does. */
    public enum OnNonFinite {
        /** Stop the run with an error naming the step and the quantity (the last checkpoint stays intact). */
        STOP,
        /** Drop the update (gradients zeroed, weights unchanged), count it and go on. */
        SKIP
    }

    public OptimConfig {
        if (microBatchSize > miniBatchSize) {
            throw new IllegalArgumentException("config key 'optim.micro_batch_size': expected an integer in [1, "
                    + miniBatchSize + " (optim.mini_batch_size)], got '" + microBatchSize + "'");
        }
    }

    public static OptimConfig defaults() {
        return Schema.defaults(OptimConfig.class);
    }

    /** Learning rate of step {@code step} (0-based): linear warm-up to {@link #lr()}, then constant. */
    public double lrAt(int step) {
        return LearningRates.linearWarmup(lr, step, warmupSteps);
    }
}
