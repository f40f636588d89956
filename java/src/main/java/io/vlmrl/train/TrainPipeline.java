package io.vlmrl.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.RewardFunction;
import io.vlmrl.data.Split;
import io.vlmrl.eval.EvalOptions;
import io.vlmrl.eval.EvalResult;
import io.vlmrl.eval.Evaluator;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.sft.SftOptions;
import io.vlmrl.sft.SftResult;
import io.vlmrl.sft.SftTrainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code vlmrl train} does: supervised warm start (or a given checkpoint) → held-out
 * accuracy before → RL → held-out accuracy after. Writes into the run directory
 * config.yaml, metrics.jsonl, curves.png, eval.json and the final policy under final/.
 * A run directory that already holds an RL checkpoint is resumed.
 */
public final class TrainPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(TrainPipeline.class);

    public static final String EVAL_FILE = "eval.json";
    public static final String CONFIG_FILE = "config.yaml";
    public static final String SFT_DIR = "sft";
    public static final String FINAL_DIR = "final";

    private final TrainConfig config;
    private final Path runDir;
    private final Path init;
    private boolean showProgress = true;

    /**
     * @param init a checkpoint directory to start RL from instead of the SFT warm start, or null
     */
    public TrainPipeline(TrainConfig config, Path runDir, Path init) {
        this.config = config;
        this.runDir = runDir;
        this.init = init;
    }

    public TrainPipeline showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /**
     * Refuses to reuse a directory whose config.yaml holds other settings: what is there (a
     * checkpoint, a warm start) was made with them and would silently be continued with these.
     *
     * @param keys   the keys that must agree
     * @param advice what the user can do instead, ending the error message
     */
    public static void checkSameSettings(Path dir, TrainConfig requested, Predicate<String> keys, String advice) {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        List<String> differences = TrainConfig.load(file).differences(requested, keys);
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException("--out: " + dir + " already holds a run with other settings ("
                    + String.join(", ", differences) + "); " + advice);
        }
    }

    /** Runs everything and returns the content of eval.json. */
    public Map<String, Object> run() throws IOException {
        Files.createDirectories(runDir);
        // Written first, so that a run killed during its warm start is guarded too.
        config.writeYaml(runDir.resolve(CONFIG_FILE));
        org.bytedeco.pytorch.global.torch.set_num_threads(config.threads());
        VisionLanguageModel policy;
        WordTokenizer tokenizer;
        Path resumeFrom = TrainCheckpoint.latest(runDir);
        if (init != null) {
            Checkpoint.Loaded loaded = Checkpoint.load(init);
            policy = loaded.model();
            tokenizer = loaded.tokenizer() != null ? loaded.tokenizer() : defaultTokenizer();
        } else if (resumeFrom != null) {
            // Resume: the RL checkpoint overwrites these weights; DIR/warmstart also rebuilds the KL reference.
            Checkpoint.Loaded loaded = Checkpoint.load(runDir.resolve(RlTrainer.WARM_START_DIR));
            policy = loaded.model();
            tokenizer = loaded.tokenizer();
        } else if (Files.exists(runDir.resolve(SFT_DIR).resolve(Checkpoint.WEIGHTS_FILE))) {
            // Killed after the warm start and before the first RL checkpoint: keep the warm start.
            Checkpoint.Loaded loaded = Checkpoint.load(runDir.resolve(SFT_DIR));
            policy = loaded.model();
            tokenizer = loaded.tokenizer();
        } else {
            tokenizer = defaultTokenizer();
            policy = new VisionLanguageModel(config.modelConfig(tokenizer), config.seed());
            warmStart(policy, tokenizer, runDir.resolve(SFT_DIR), config, showProgress);
        }

        BuiltinTask task = new BuiltinTask(config.taskConfig());
        Dataset heldOut = task.dataset(Split.HELD_OUT, config.evalSize());
        EvalResult before = evaluate(policy, tokenizer, heldOut);

        try (RlTrainer trainer = new RlTrainer(config, runDir, policy, tokenizer).showProgress(showProgress)) {
            trainer.run();
        }
        Checkpoint.save(runDir.resolve(FINAL_DIR), policy, tokenizer);
        EvalResult after = evaluate(policy, tokenizer, heldOut);

        Map<String, Object> report = evalReport(config, before, after);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(runDir.resolve(EVAL_FILE).toFile(), report);
        return report;
    }

    /** The word tokenizer of the built-in task. */
    public static WordTokenizer defaultTokenizer() {
        return WordTokenizer.fromWords(BuiltinTask.vocabulary());
    }

    /** Supervised warm start on the teacher's demonstrations of the train split; saves the model to {@code dir}. */
    public static SftResult warmStart(VisionLanguageModel model, WordTokenizer tokenizer, Path dir, TrainConfig config,
                                      boolean showProgress) throws IOException {
        SftOptions options = SftOptions.defaults().withSteps(config.sftSteps()).withBatchSize(config.sftBatchSize())
                .withLr(config.sftLr()).withSeed(config.seed()).withShowProgress(showProgress);
        Dataset train = new BuiltinTask(config.taskConfig()).demonstrations(Split.TRAIN, RolloutSampler.TRAIN_POOL);
        if (config.teacherMissRate() > 0) {
            LOG.info("SFT warm start on demonstrations by a teacher that overlooks {}% of the shapes it counts "
                    + "(task.teacher_miss_rate; answers, rewards and evaluation are exact)", Math.round(100 * config.teacherMissRate()));
        }
        SftResult result = new SftTrainer(model, tokenizer, options).train(train, dir);
        result.writeJson(dir.resolve("sft.json"));
        return result;
    }

    /** Greedy accuracy on the held-out problems. */
    public static EvalResult evaluate(VisionLanguageModel model, WordTokenizer tokenizer, Dataset heldOut) {
        EvalOptions options = EvalOptions.defaults().withProblems(heldOut.size());
        return new Evaluator(model, tokenizer, new RewardFunction(), options).evaluate(heldOut);
    }

    /** eval.json: accuracy before and after RL, overall and per question type. */
    static Map<String, Object> evalReport(TrainConfig config, EvalResult before, EvalResult after) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("preset", config.preset());
        report.put("problems", after.problems());
        report.put("accuracy_before", before.accuracy());
        report.put("accuracy_after", after.accuracy());
        report.put("format_rate_before", before.formatRate());
        report.put("format_rate_after", after.formatRate());
        Map<String, Object> byType = new LinkedHashMap<>();
        for (String type : new TreeSet<>(after.byType().keySet())) {
            Map<String, Object> t = new LinkedHashMap<>();
            EvalResult.TypeAccuracy b = before.byType().get(type);
            t.put("problems", after.byType().get(type).problems());
            t.put("accuracy_before", b == null ? 0.0 : b.accuracy());
            t.put("accuracy_after", after.byType().get(type).accuracy());
            byType.put(type, t);
        }
        report.put("by_type", byType);
        return report;
    }
}
