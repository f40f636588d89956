package io.vlmrl.rl;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/** The {@code reuse.*} keys: ACPO's sample-reuse schedule K(t) ({@link ReuseSchedule}). */
@Section("reuse")
public record ReuseConfig(
        @Key(def = "linear", help = "shape of K(t): linear, step or cosine")
        ReuseSchedule.Kind kind,
        @Key(def = "1", min = 1, max = 100, help = "K_max: passes over a batch at the end of the ramp (1: on-policy)")
        int kMax,
        @Key(def = "30", min = 0, max = 1_000_000, help = "T_ramp: steps until K reaches K_max")
        int tRamp) {

    public static ReuseConfig defaults() {
        return Schema.defaults(ReuseConfig.class);
    }
}
