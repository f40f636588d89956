package io.vlmrl.eval;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/** The {@code eval.*} keys: greedy accuracy on the held-out problems. */
@Section("eval")
public record EvalConfig(
        @Key(def = "400", min = 1, max = 100_000_000, help = "held-out problems evaluated (the first ones; fewer if the set is smaller)")
        int size,
        @Key(def = "50", min = 1, max = 65536, help = "prompts generated together")
        int batchSize,
        @Key(def = "17", min = 1, max = 1 << 20, help = "longest generated response in tokens (the end token included)")
        int maxNewTokens,
        @Key(def = "10", min = 0, max = 10_000, help = "evaluated problems kept with their responses in eval.json")
        int examples) {

    public static EvalConfig defaults() {
        return Schema.defaults(EvalConfig.class);
    }

    public EvalConfig withSize(int n) {
        return Schema.with(this, "size=" + n);
    }

    public EvalConfig withBatchSize(int n) {
        return Schema.with(this, "batch_size=" + n);
    }

    public EvalConfig withMaxNewTokens(int n) {
        return Schema.with(this, "max_new_tokens=" + n);
    }
}
