package io.vlmrl.rl;

import io.vlmrl.data.Dataset;
import io.vlmrl.dist.Collectives;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.NonFiniteException;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.GuardedReward;
import io.vlmrl.reward.RewardFunction;
import io.vlmrl.store.RunDirectory;
import io.vlmrl.store.TrainCheckpoint;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The RL loop. Each step t:
 * <ol>
 *   <li>sample B prompts and G responses each with the current (behaviour) policy, score them
 *       (overlong shaping included when on) — repeated while the ACPO gate or DAPO dynamic
 *       sampling leaves fewer than B groups, up to the generation-batch limit;</li>
 *   <li>advantages per group (+ STCR and DADS weights for apo);</li>
 *   <li>K(t) passes of mini-batch updates ({@link PolicyUpdater});</li>
 *   <li>log every metric, checkpoint every N steps.</li>
 * </ol>
 * Every random draw of step t is seeded from (seed, t), so a resumed run reproduces an
 * uninterrupted one. Native temporaries are freed per step (PointerScope).
 *
 * <p><b>Data parallel.</b> With {@link Collectives} of N ranks, each rank samples its
 * {@link GroupShare} of every generation batch (a group's draws are seeded per group, so N ranks
 * sample what one process samples), the ACPO gate / DAPO dynamic sampling count kept groups over
 * all ranks ({@link GroupCollector}), the update plans, denominators and AAAC statistics cover
 * every rank's responses ({@link MiniBatchPlan}), the gradients are summed in the optimizer step,
 * and the metrics are summed before any division ({@link StepReduction}): N ranks compute what one
 * process computes, up to the order of float additions. Rank 0 writes metrics.jsonl and the
 * checkpoints; every rank resumes from them.
 *
 * <p>Ownership: the trainer updates {@code policy} in place and reads {@code reference}; both stay
 * the caller's to close. The optimizer state is the trainer's, freed by {@link #close()}.
 */
public final class RlTrainer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RlTrainer.class);

    /** Reported after each step (for tests and progress displays). */
    public record StepReport(int step, Map<String, Double> metrics, List<Double> passMeanRatio, int keptGroups) {}

    private final RlConfig config;
    private final RunDirectory run;
    private final Policy policy;
    private final OptimizerStep optimizer;
    private final GuardedReward reward;
    private final RolloutSampler sampler;
    private final PolicyUpdater updater;
    private final AdvantageStage advantages;
    private final ReuseSchedule reuse;
    private final GroupFilter filter;
    /** Rank 0's; null on the other ranks. */
    private final MetricsLogger metrics;
    private final Collectives world;
    private int nextStep;
    private boolean showProgress = true;
    private boolean entropyWarned;

    /**
     * Starts the RL part of a run, or resumes it from the newest checkpoint in {@code run}.
     *
     * @param policy    the policy to train, at its starting weights (a resumed run loads its
     *                  checkpoint's weights into it)
     * @param reference the frozen KL reference (the starting policy), or null when no KL term is on
     * @param train     the training problems
     * @param reward    scores the responses; {@code reward.on_error} is applied around it
     */
    public RlTrainer(RlConfig config, RunDirectory run, Policy policy, Policy reference, Dataset train,
                     RewardFunction reward) throws IOException {
        this(config, run, policy, reference, train, reward, Collectives.single());
    }

    /**
     * One rank of a data-parallel run (every rank constructs one with the same arguments); see the
     * class comment. Rank 0's weights are copied to every rank before the first step.
     *
     * @param world the ranks ({@link Collectives#single()}: this process alone)
     */
    public RlTrainer(RlConfig config, RunDirectory run, Policy policy, Policy reference, Dataset train,
                     RewardFunction reward, Collectives world) throws IOException {
        this.config = config;
        this.run = run;
        this.policy = policy;
        this.world = world;
        Files.createDirectories(run.root());
        this.optimizer = OptimizerStep.of(policy.trainableParameters(), config.optim(), world);
        Path checkpoint = TrainCheckpoint.latestIntact(run);
        int keepRecords = 0;
        if (checkpoint != null) {
            TrainCheckpoint.State state = TrainCheckpoint.load(checkpoint, policy, optimizer);
            nextStep = state.nextStep();
            keepRecords = state.metricsRecords();
        }
        world.requireSame("the step to resume from (each rank's newest intact checkpoint in " + run.checkpoints() + ")", nextStep);
        world.broadcastFromRankZero("copying rank 0's weights", policy.trainableParameters().values());
        this.reward = new GuardedReward(reward, config.reward().onError());
        this.sampler = new RolloutSampler(policy, train, this.reward, config.rollout(), config.reward());
        this.updater = new PolicyUpdater(policy, reference, optimizer, config.loss(), config.kernels(),
                config.rollout().temperature(), config.optim());
        this.advantages = new AdvantageStage(config.loss(), config.rollout().groupSize());
        this.reuse = new ReuseSchedule(config.reuse());
        this.filter = GroupFilter.of(config.curriculum(), config.rollout().groupSize());
        this.metrics = world.isRankZero() ? new MetricsLogger(run.metrics(), keepRecords) : null;
    }

    public RlTrainer showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /** The step the next call to {@link #step()} runs. */
    public int nextStep() {
        return nextStep;
    }

    /** Runs the remaining steps up to {@code steps}. */
    public void run() throws IOException {
        long start = System.nanoTime();
        double collectivesBefore = world.seconds();
        ProgressBar bar = showProgress && nextStep < config.steps()
                ? new ProgressBarBuilder().setTaskName("RL").setInitialMax(config.steps())
                        .setStyle(ProgressBarStyle.ASCII).startsFrom(nextStep, java.time.Duration.ZERO).build()
                : null;
        try {
            while (nextStep < config.steps()) {
                StepReport r = step();
                if (bar != null) {
                    bar.stepTo(nextStep);
                    bar.setExtraMessage(String.format(java.util.Locale.ROOT, "reward %.3f acc %.3f K %d",
                            r.metrics().get(MetricNames.REWARD_MEAN), r.metrics().get(MetricNames.ACCURACY),
                            r.metrics().get(MetricNames.REUSE_K).intValue()));
                }
            }
        } finally {
            if (bar != null) bar.close();
        }
        if (world.distributed() && world.isRankZero()) {
            double seconds = (System.nanoTime() - start) / 1e9;
            double inCollectives = world.seconds() - collectivesBefore;
            LOG.info(String.format(java.util.Locale.ROOT, "data parallel: %d ranks; collectives took %.1f s of the RL loop's "
                    + "%.1f s (%.1f%%, waiting for slower ranks included)", world.worldSize(), inCollectives, seconds,
                    100 * inCollectives / Math.max(seconds, 1e-9)));
        }
    }

    /** Seconds this trainer's rank spent in collectives so far (0 in one process). */
    public double collectiveSeconds() {
        return world.seconds();
    }

    /**
     * Runs one step, logs it and checkpoints when due.
     *
     * @throws DivergenceException when logits, the loss or the gradient norm stop being finite
     *                             ({@code optim.on_non_finite=stop}); the last checkpoint is intact
     */
    public StepReport step() throws IOException {
        try {
            return runStep();
        } catch (NonFiniteException e) {
            throw new DivergenceException(nextStep, e, "lower optim.lr (now " + config.optim().lr() + ")"
                    + (config.optim().gradClip() > 0 ? "" : ", clip the gradient (optim.grad_clip > 0)")
                    + (config.optim().weightDecay() > 1 ? ", lower optim.weight_decay (now " + config.optim().weightDecay() + ")" : "")
                    + "; resume from the last checkpoint with --resume");
        }
    }

    private StepReport runStep() throws IOException {
        int t = nextStep;
        long start = System.nanoTime();
        long errorsBefore = reward.errors();
        StepReport report;
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(Seeds.of(config.seed(), t, Seeds.Purpose.TORCH, 0));
            GroupShare share = new GroupShare(config.rollout().promptsPerStep(), world.rank(), world.worldSize());
            GroupCollector<ScoredGroup> collector = new GroupCollector<>(filter, ScoredGroup::rewards,
                    config.rollout().promptsPerStep(),
                    filter == GroupFilter.KEEP_ALL ? 1 : config.curriculum().maxGenerationBatches(), world, share);
            GroupCollector.Result<ScoredGroup> rollout = collector.collect(b -> sampleShare(t, b, share));

            RolloutBatch batch = new RolloutBatch(rollout.kept, config.rollout().maxResponseLength(),
                    policy.tokenizer().padId());
            advantages.apply(batch);
            batch.exchange(rollout.keptOwner, config.rollout().groupSize(), world);
            optimizer.setLearningRate(config.lrAt(t));
            int k = reuse.passes(t);
            PolicyUpdater.Outcome outcome = updater.update(batch, k,
                    new Random(Seeds.of(config.seed(), t, Seeds.Purpose.SHUFFLE, 0)));

            StepReduction.Totals total = StepReduction.of(rollout.sampled, outcome, batch, reward.errors() - errorsBefore, world);
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Double> m = StepMetrics.of(total.rollout(), total.outcome(), k, rollout.passRate,
                    total.rewardErrors(), seconds, total.dadsLambdaMean(), total.stcrWeightMean());
            report = new StepReport(t, m, total.outcome().passMeanRatio, rollout.keptOwner.length);
        }
        nextStep = t + 1;
        if (metrics != null) {
            metrics.log(t, report.metrics());
            warnOnEntropyCollapse(t, report.metrics().get(MetricNames.ENTROPY), report.metrics().get(MetricNames.SKIPPED_UPDATES));
            int every = config.checkpoint().every();
            if (every > 0 && nextStep % every == 0 || nextStep == config.steps()) {
                TrainCheckpoint.save(run, nextStep, policy, optimizer, metrics.records(), config.checkpoint().keep());
            }
        }
        return report;
    }

    /** This rank's groups of generation batch {@code b} of step {@code t}, each seeded by (seed, t, b, group). */
    private List<ScoredGroup> sampleShare(int t, int b, GroupShare share) {
        long[] promptSeeds = new long[share.count()];
        long[] samplingSeeds = new long[share.count()];
        for (int i = 0; i < promptSeeds.length; i++) {
            int group = share.first() + i;
            promptSeeds[i] = Seeds.of(config.seed(), t, Seeds.Purpose.PROMPTS, b, group);
            samplingSeeds[i] = Seeds.of(config.seed(), t, Seeds.Purpose.SAMPLING, b, group);
        }
        return sampler.sample(promptSeeds, samplingSeeds);
    }

    private void warnOnEntropyCollapse(int t, double entropy, double skipped) {
        if (skipped > 0) {
            LOG.warn("step {}: {} update(s) skipped for a non-finite loss or gradient (optim.on_non_finite=skip)", t, (long) skipped);
        }
        double floor = config.optim().entropyWarning();
        if (!entropyWarned && floor > 0 && entropy < floor) {
            entropyWarned = true;
            LOG.warn("step {}: the policy's mean token entropy fell to {} nats (below optim.entropy_warning = {}): "
                    + "it has collapsed onto fixed responses and will hardly explore; a lower optim.lr or an entropy bonus "
                    + "(loss.entropy_coef) keeps it open", t, entropy, floor);
        }
    }

    @Override
    public void close() {
        try {
            if (metrics != null) metrics.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        optimizer.close();
    }
}
