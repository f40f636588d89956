package io.vlmrl.data;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code data.*} keys: a user's training and held-out sets as JSONL files, and the names of
 * their fields (as in verl and EasyR1). Without {@code data.train} the built-in task is used.
 */
@Section("data")
public record DataConfig(
        @Key(def = "", help = "training set: a JSONL file, one problem per line (empty: the built-in task)")
        String train,
        @Key(def = "", help = "held-out set: a JSONL file (train and compare need it with data.train)")
        String eval,
        @Key(def = "question", help = "field of the question text")
        String promptKey,
        @Key(def = "answer", help = "field of the expected answer")
        String answerKey,
        @Key(def = "image", help = "field of the image path, or a list of paths (relative to the JSONL file's folder)")
        String imageKey,
        @Key(def = "solution", help = "optional field of a worked response, the SFT target (else 'answer X')")
        String solutionKey,
        @Key(def = "type", help = "optional field of the problem type, for per-type accuracy")
        String typeKey) {

    public DataConfig {
        for (String[] k : new String[][] {{"prompt_key", promptKey}, {"answer_key", answerKey}, {"image_key", imageKey},
                {"solution_key", solutionKey}, {"type_key", typeKey}}) {
            if (k[1].isBlank()) {
                throw new IllegalArgumentException("config key 'data." + k[0] + "': expected a field name, got '" + k[1] + "'");
            }
        }
    }

    public static DataConfig defaults() {
        return Schema.defaults(DataConfig.class);
    }

    /** True when the run uses a user's data rather than the built-in task. */
    public boolean userData() {
        return !train.isEmpty() || !eval.isEmpty();
    }
}
