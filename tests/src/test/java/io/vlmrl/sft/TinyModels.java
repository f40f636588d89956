package io.vlmrl.sft;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.model.VlmConfig;
import io.vlmrl.model.WordTokenizer;

/** A very small policy over the built-in task's vocabulary, fast enough for unit tests. */
public final class TinyModels {
    private TinyModels() {
    }

    public static WordTokenizer tokenizer() {
        return WordTokenizer.fromWords(BuiltinTask.vocabulary());
    }

    /** The tiny model over the built-in vocabulary as a policy. */
    public static BuiltinPolicy policy(long seed) {
        WordTokenizer tokenizer = tokenizer();
        return new BuiltinPolicy(model(tokenizer, seed), tokenizer, false);
    }

    public static VisionLanguageModel model(WordTokenizer tokenizer, long seed) {
        VlmConfig config = VlmConfig.builder().tokenizer(tokenizer)
                .visionWidth(32).visionLayers(1).visionHeads(2).visionMlpHidden(64)
                .hiddenSize(32).numLayers(1).numHeads(2).numKvHeads(2).intermediateSize(64)
                .build();
        return new VisionLanguageModel(config, seed);
    }
}
