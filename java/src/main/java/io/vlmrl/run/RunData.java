package io.vlmrl.run;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.JsonlDataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.Split;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.model.WordTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The problems of a run: RL prompts, SFT demonstrations and the held-out set, from the built-in
 * task or from a user's JSONL files ({@code data.train}, {@code data.eval}). Opening them checks
 * every record, so bad data is reported (file and line) before any work starts.
 *
 * @param train   problems RL draws its prompts from
 * @param sft     problems with the supervised targets (the built-in teacher's demonstrations, or
 *                the user's training set with its solutions)
 * @param heldOut the held-out problems evaluated before and after RL
 * @param task    the built-in task's settings, or null for a user's data
 */
public record RunData(Dataset train, Dataset sft, Dataset heldOut, TaskConfig task) {
    private static final Logger LOG = LoggerFactory.getLogger(RunData.class);

    /** What a job reads. */
    public enum Need {
        /** RL (train, compare): training and held-out problems. */
        TRAIN_AND_EVAL,
        /** SFT: training problems only. */
        TRAIN,
        /** Evaluation: held-out problems only. */
        EVAL
    }

    /**
     * Opens the data of {@code config}: the built-in task, or the files of {@code data.train} /
     * {@code data.eval} that the job needs (a job whose data is not given gets none: an empty set).
     *
     * @throws IllegalArgumentException naming the key when a file the job needs is not given, or the
     *                                  file and line of a bad record
     */
    public static RunData open(RunConfig config, Need need) {
        if (!config.data().userData()) {
            BuiltinTask task = new BuiltinTask(config.task());
            return new RunData(task.dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL),
                    task.demonstrations(Split.TRAIN, BuiltinTask.TRAIN_POOL),
                    task.dataset(Split.HELD_OUT, config.eval().size()), config.task());
        }
        boolean needsTrain = need != Need.EVAL, needsEval = need != Need.TRAIN;
        Dataset train = needsTrain ? open("data.train", config.data().train(), config) : EMPTY;
        Dataset heldOut = needsEval ? open("data.eval", config.data().eval(), config) : EMPTY;
        if (train instanceof JsonlDataset t && heldOut instanceof JsonlDataset h) {
            warnOverlap(config, t, h);
        }
        return new RunData(train, train, heldOut, null);
    }

    private static final Dataset EMPTY = new Dataset() {
        @Override public String name() { return "none"; }
        @Override public int size() { return 0; }
        @Override public Problem get(int index) { throw new IndexOutOfBoundsException(index); }
    };

    private static void warnOverlap(RunConfig config, JsonlDataset train, JsonlDataset heldOut) {
        int overlap = train.overlapWith(heldOut);
        if (overlap > 0) {
            LOG.warn("{} of the {} held-out problems ({}) also occur in the training set ({}): same question, answer and "
                    + "images; held-out accuracy overstates generalisation", overlap, heldOut.size(),
                    config.data().eval(), config.data().train());
        }
    }

    private static JsonlDataset open(String key, String path, RunConfig config) {
        if (path.isEmpty()) {
            throw new IllegalArgumentException("config key '" + key + "': expected a JSONL file (this job needs it "
                    + "when a user's data is given), got ''");
        }
        try {
            return JsonlDataset.load(Path.of(path), config.data());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /** Whether these are the built-in task's problems. */
    public boolean builtin() {
        return task != null;
    }

    /**
     * The word tokenizer of a fresh built-in model for this data: the built-in task's vocabulary,
     * or one built from the training set's texts (and the held-out set's characters), so that every
     * problem encodes without an unknown token.
     */
    public WordTokenizer builtinTokenizer() {
        if (builtin()) return WordTokenizer.fromWords(BuiltinTask.vocabulary(task.types()));
        List<String> words = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            Problem p = train.get(i);
            words.add(p.question());
            words.add(p.answer());
            if (p.workedResponse() != null) words.add(p.workedResponse());
        }
        List<String> chars = new ArrayList<>();
        for (int i = 0; i < heldOut.size(); i++) {
            chars.add(heldOut.get(i).question());
            chars.add(heldOut.get(i).answer());
        }
        return WordTokenizer.fromTexts(words, chars);
    }

    /**
     * The problems to check against a policy before any work: every problem of a user's data, or
     * a sample of the built-in task's (which are generated and all alike).
     */
    public List<Problem> toCheck() {
        List<Problem> out = new ArrayList<>();
        if (builtin()) {
            for (int i = 0; i < Math.min(8, heldOut.size()); i++) out.add(heldOut.get(i));
            for (int i = 0; i < 8; i++) out.add(train.get(i));
            return out;
        }
        for (int i = 0; i < train.size(); i++) out.add(train.get(i));
        for (int i = 0; i < heldOut.size(); i++) out.add(heldOut.get(i));
        return out;
    }
}
