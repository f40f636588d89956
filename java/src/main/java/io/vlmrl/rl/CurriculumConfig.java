package io.vlmrl.rl;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code curriculum.*} keys: which sampled groups are trained on (ACPO's gate, DAPO's dynamic
 * sampling) and how many generation batches a step may draw to fill its batch.
 */
@Section("curriculum")
public record CurriculumConfig(
        @Key(def = "false", help = "ACPO gating: keep groups with 0 < #{r > tau} <= n_max")
        boolean gate,
        @Key(def = "0.5", min = -1e9, max = 1e9, help = "reward threshold of a success for the gate")
        double tau,
        @Key(def = "-1", min = -1, max = 1024, help = "most successes a kept group may have (-1: G - 1)")
        int nMax,
        @Key(def = "false", help = "DAPO dynamic sampling: keep only groups whose rewards are not all equal")
        boolean dynamicSampling,
        @Key(def = "3", min = 1, max = 1000,
                help = "generation batches per step before training on what passed (gate or dynamic sampling)")
        int maxGenerationBatches) {

    public CurriculumConfig {
        if (nMax == 0) {
            throw new IllegalArgumentException("config key 'curriculum.n_max': expected -1 (G - 1) or an integer >= 1, got '0'");
        }
    }

    public static CurriculumConfig defaults() {
        return Schema.defaults(CurriculumConfig.class);
    }

    /** N_max for groups of {@code groupSize} responses (the default -1 is G - 1). */
    public int nMaxFor(int groupSize) {
        return nMax < 0 ? groupSize - 1 : nMax;
    }
}
