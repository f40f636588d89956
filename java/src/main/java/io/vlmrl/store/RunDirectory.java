package io.vlmrl.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The layout of a run directory, in one place:
 * <pre>
 * DIR/config.yaml        the configuration (the preset and the keys that differ from it)
 * DIR/run.json           every resolved value, to check a resumed run against
 * DIR/metrics.jsonl      one JSON object per RL step
 * DIR/warmstart/         the policy RL starts from (SFT's result or a loaded model), with sft.json
 * DIR/checkpoints/       step-NNNNNN/ (policy/, optimizer.pt, state.json, manifest.json) and latest
 * DIR/final/             the trained policy
 * DIR/eval.json          held-out accuracy before and after RL
 * DIR/curves.png         the training curves
 * DIR/run.log            the log, with the stack trace of a failure
 * </pre>
 */
public final class RunDirectory {
    public static final String CONFIG_FILE = "config.yaml";
    public static final String RECORD_FILE = "run.json";
    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String WARM_START_DIR = "warmstart";
    public static final String SFT_RESULT_FILE = "sft.json";
    public static final String CHECKPOINTS_DIR = "checkpoints";
    public static final String FINAL_DIR = "final";
    public static final String EVAL_FILE = "eval.json";
    public static final String CURVES_FILE = "curves.png";
    public static final String LOG_FILE = "run.log";

    private final Path root;

    private RunDirectory(Path root) {
        this.root = root;
    }

    /** The layout of the run directory {@code root} (nothing is created or checked). */
    public static RunDirectory at(Path root) {
        return new RunDirectory(root);
    }

    /** Creates the directory if needed. */
    public RunDirectory create() throws IOException {
        if (Files.exists(root) && !Files.isDirectory(root)) {
            throw new IllegalArgumentException("--out: expected a directory, got the file '" + root + "'");
        }
        Files.createDirectories(root);
        return this;
    }

    public Path root() { return root; }
    public Path config() { return root.resolve(CONFIG_FILE); }
    public Path record() { return root.resolve(RECORD_FILE); }
    public Path metrics() { return root.resolve(METRICS_FILE); }
    public Path warmStart() { return root.resolve(WARM_START_DIR); }
    public Path sftResult() { return warmStart().resolve(SFT_RESULT_FILE); }
    public Path checkpoints() { return root.resolve(CHECKPOINTS_DIR); }
    public Path finalPolicy() { return root.resolve(FINAL_DIR); }
    public Path eval() { return root.resolve(EVAL_FILE); }
    public Path curves() { return root.resolve(CURVES_FILE); }
    public Path log() { return root.resolve(LOG_FILE); }

    @Override
    public String toString() {
        return root.toString();
    }
}
