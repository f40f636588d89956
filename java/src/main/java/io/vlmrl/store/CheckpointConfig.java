package io.vlmrl.store;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/** The {@code checkpoint.*} keys: how often a run saves itself and how many checkpoints it keeps. */
@Section("checkpoint")
public record CheckpointConfig(
        @Key(def = "10", min = 0, max = 1_000_000, help = "steps between checkpoints (0: only at the end)")
        int every,
        @Key(def = "3", min = 1, max = 1_000_000, help = "checkpoints kept (older ones are deleted; the final one stays)")
        int keep) {

    public static CheckpointConfig defaults() {
        return Schema.defaults(CheckpointConfig.class);
    }
}
