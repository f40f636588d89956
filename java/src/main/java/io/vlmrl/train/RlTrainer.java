package io.vlmrl.train;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.policy.Tokenizer;
import io.vlmrl.model.VisionLanguageModel;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The RL loop. Each step t:
 * <ol>
 *   <li>sample B prompts and G responses each with the current (behaviour) policy, score them
 *       (overlong shaping included for dapo) — repeated while the ACPO gate or DAPO dynamic
 *       sampling leaves fewer than B groups, up to the generation-batch limit;</li>
 *   <li>advantages per group (+ STCR and DADS weights for apo);</li>
 *   <li>K(t) passes of mini-batch updates ({@link PolicyUpdater});</li>
 *   <li>log every metric, checkpoint every N steps.</li>
 * </ol>
 * Every random draw of step t is seeded from (seed, t), so a resumed run reproduces an
 * uninterrupted one. Native temporaries are freed per step (PointerScope).
 */
public final class RlTrainer implements AutoCloseable {

    /** Sub-directory of the run holding the policy RL started from. */
    public static final String WARM_START_DIR = "warmstart";

    /** Reported after each step (for tests and progress displays). */
    public record StepReport(int step, Map<String, Double> metrics, List<Double> passMeanRatio, int keptGroups) {}

    private final TrainConfig config;
    private final Path runDir;
    private final VisionLanguageModel policy;
    private final VisionLanguageModel reference;
    private final Tokenizer tokenizer;
    private final OptimizerStep optimizer;
    private final RolloutSampler sampler;
    private final PolicyUpdater updater;
    private final AdvantageStage advantages;
    private final ReuseSchedule reuse;
    private final GroupFilter filter;
    private final MetricsLogger metrics;
    private int nextStep;
    private boolean showProgress = true;

    /**
     * Starts a run (or resumes it when {@code runDir} holds a checkpoint).
     *
     * @param warmStart the policy after the warm start; trained in place. Its weights are saved
     *                  to DIR/warmstart so that a resumed run rebuilds the same reference model.
     */
    public RlTrainer(TrainConfig config, Path runDir, VisionLanguageModel warmStart, Tokenizer tokenizer) throws IOException {
        this.config = config;
        this.runDir = runDir;
        this.policy = warmStart;
        this.tokenizer = tokenizer;
        torch.set_num_threads(config.threads());
        Files.createDirectories(runDir);
        config.writeYaml(runDir.resolve(TrainPipeline.CONFIG_FILE));

        this.optimizer = OptimizerStep.of(policy, config);
        Path checkpoint = TrainCheckpoint.latest(runDir);
        List<Map<String, Object>> previous = List.of();
        Path warmStartDir = runDir.resolve(WARM_START_DIR);
        if (checkpoint != null) {
            TrainCheckpoint.State state = TrainCheckpoint.load(checkpoint, policy, optimizer);
            nextStep = state.nextStep();
            previous = state.metrics();
        } else {
            Checkpoint.save(warmStartDir, policy, tokenizer);
            nextStep = 0;
        }
        if (config.klOn()) {
            // The frozen reference is the warm-start policy, also after a resume.
            this.reference = Checkpoint.load(warmStartDir).model().freeze();
        } else {
            this.reference = null;
        }
        this.sampler = new RolloutSampler(policy, tokenizer, new BuiltinTask(config.taskConfig()), config);
        this.updater = new PolicyUpdater(policy, reference, optimizer, tokenizer, config);
        this.advantages = new AdvantageStage(config);
        this.reuse = ReuseSchedule.of(config);
        this.filter = GroupFilter.of(config);
        this.metrics = new MetricsLogger(runDir.resolve("metrics.jsonl"), previous);
    }

    public RlTrainer showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /** The step the next call to {@link #step()} runs. */
    public int nextStep() {
        return nextStep;
    }

    /** Every logged record so far. */
    public List<Map<String, Object>> history() {
        return metrics.history();
    }

    /** Runs the remaining steps up to {@code config.steps()}, then writes the curves. */
    public void run() throws IOException {
        ProgressBar bar = showProgress
                ? new ProgressBarBuilder().setTaskName("RL " + config.preset()).setInitialMax(config.steps())
                        .setStyle(ProgressBarStyle.ASCII).startsFrom(nextStep, java.time.Duration.ZERO).build()
                : null;
        try {
            while (nextStep < config.steps()) {
                StepReport r = step();
                if (bar != null) {
                    bar.stepTo(nextStep);
                    bar.setExtraMessage(String.format("reward %.3f acc %.3f K %d",
                            r.metrics().get(MetricNames.REWARD_MEAN), r.metrics().get(MetricNames.ACCURACY),
                            r.metrics().get(MetricNames.REUSE_K).intValue()));
                }
            }
        } finally {
            if (bar != null) bar.close();
        }
        if (!metrics.history().isEmpty()) CurvePlotter.plotRun(metrics.history(), runDir.resolve("curves.png"));
    }

    /** Runs one step, logs it and checkpoints when due. */
    public StepReport step() throws IOException {
        int t = nextStep;
        long start = System.nanoTime();
        StepReport report;
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(Seeds.of(config.seed(), t, Seeds.Purpose.TORCH, 0));
            Random prompts = new Random(Seeds.of(config.seed(), t, Seeds.Purpose.PROMPTS, 0));
            GroupCollector<ScoredGroup> collector = new GroupCollector<>(filter, ScoredGroup::rewards,
                    config.promptsPerStep(), filter == GroupFilter.KEEP_ALL ? 1 : config.maxGenerationBatches());
            GroupCollector.Result<ScoredGroup> rollout = collector.collect(
                    b -> sampler.sample(prompts, Seeds.of(config.seed(), t, Seeds.Purpose.SAMPLING, b)));

            RolloutBatch batch = new RolloutBatch(rollout.kept, config.maxResponseLength(), tokenizer.padId());
            advantages.apply(batch);
            optimizer.setLearningRate(config.lrAt(t));
            int k = reuse.passes(t);
            PolicyUpdater.Outcome outcome = updater.update(batch, k,
                    new Random(Seeds.of(config.seed(), t, Seeds.Purpose.SHUFFLE, 0)));

            double seconds = (System.nanoTime() - start) / 1e9;
            RolloutStats stats = RolloutStats.of(rollout.sampled);
            Map<String, Double> m = StepMetrics.of(stats, outcome, batch, k, rollout.passRate, seconds);
            report = new StepReport(t, m, outcome.passMeanRatio, rollout.kept.size());
        }
        metrics.log(t, report.metrics());
        nextStep = t + 1;
        if (config.checkpointEvery() > 0 && nextStep % config.checkpointEvery() == 0 || nextStep == config.steps()) {
            TrainCheckpoint.save(runDir, nextStep, policy, tokenizer, optimizer, new ArrayList<>(metrics.history()));
        }
        return report;
    }

    @Override
    public void close() {
        try {
            metrics.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        optimizer.close();
        if (reference != null) reference.close();
    }
}
