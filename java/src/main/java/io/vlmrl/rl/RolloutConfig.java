package io.vlmrl.rl;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;
import io.vlmrl.policy.SamplingConfig;

/** The {@code rollout.*} keys: how many responses are sampled each step, and how. */
@Section("rollout")
public record RolloutConfig(
        @Key(def = "8", min = 1, max = 65536, help = "B: prompts (groups) per step")
        int promptsPerStep,
        @Key(def = "8", min = 1, max = 1024, help = "G: responses per prompt (2 or more for group advantages)")
        int groupSize,
        @Key(def = "10", min = 1, max = 1 << 20, help = "longest response in tokens (the end token included)")
        int maxResponseLength,
        @Key(def = "1.0", min = 1e-3, max = 100, help = "sampling temperature (also divides the trained log-probs)")
        double temperature,
        @Key(def = "1.0", min = 1e-6, max = 1, help = "nucleus sampling mass (1: off)")
        double topP,
        @Key(def = "0", min = 0, max = 1_000_000, help = "top-k sampling (0: off)")
        int topK) {

    public static RolloutConfig defaults() {
        return Schema.defaults(RolloutConfig.class);
    }

    /** Sampling settings of step generation batch with seed {@code seed}. */
    public SamplingConfig sampling(long seed) {
        return new SamplingConfig(temperature, topP, topK, maxResponseLength, false, seed);
    }
}
