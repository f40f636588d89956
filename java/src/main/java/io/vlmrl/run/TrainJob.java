package io.vlmrl.run;

import io.vlmrl.kernels.ComputeThreads;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vlmrl.dist.Collectives;
import io.vlmrl.dist.LaunchEnvironment;
import io.vlmrl.dist.RankLostException;
import io.vlmrl.eval.EvalResult;
import io.vlmrl.eval.Evaluator;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.GuardedReward;
import io.vlmrl.reward.RewardFunction;
import io.vlmrl.reward.Rewards;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.rl.RlTrainer;
import io.vlmrl.sft.SftResult;
import io.vlmrl.sft.SftTrainer;
import io.vlmrl.files.AtomicFiles;
import io.vlmrl.store.PolicyDirectory;
import io.vlmrl.store.RunLock;
import io.vlmrl.store.RunDirectory;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@code vlmrl train} does: warm start → held-out accuracy before → RL → held-out accuracy
 * after. The warm start is the model at {@code model.path}, or a fresh built-in model trained by
 * SFT on the run's demonstrations; it is saved in the run (DIR/warmstart) before RL starts, so a
 * resumed run always continues from the same one. Everything that can be refused (configuration,
 * data, reward, policy) is checked before any training. A run directory that already holds an RL
 * checkpoint is resumed.
 *
 * <p><b>Data parallel</b> ({@link #launch}): every rank runs this job with the same settings; the
 * SFT warm start and RL are trained together ({@link Collectives}), rank 0 alone holds the run
 * directory's lock, checks and writes its record, writes the warm start, metrics, checkpoints, the
 * final policy, eval.json and the curves, and evaluates. Every rank resumes from rank 0's files.
 */
public final class TrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

    private final RunConfig config;
    private final RunDirectory run;
    private boolean showProgress = true;
    private Set<String> mayChange = Set.of();
    private String advice = "choose another --out";
    private LaunchEnvironment launch = LaunchEnvironment.single();

    public TrainJob(RunConfig config, Path runDir) {
        this.config = config;
        this.run = RunDirectory.at(runDir);
    }

    public TrainJob showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /**
     * The keys that may differ from what the run directory recorded (a resume's {@code --set}, such
     * as more {@code steps}); by default none: a directory holding a run with other settings is
     * refused rather than silently continued.
     *
     * @param advice what the user can do instead, ending the refusal's message
     */
    public TrainJob allowChanges(Set<String> keys, String advice) {
        this.mayChange = Set.copyOf(keys);
        this.advice = advice;
        return this;
    }

    /**
     * Runs as one rank of the data-parallel run {@code env} describes (default: one process);
     * {@code LaunchEnvironment.fromSystem()} reads what {@code --nproc} or a torchrun-style launcher set.
     */
    public TrainJob launch(LaunchEnvironment env) {
        this.launch = env;
        return this;
    }

    /**
     * Runs everything and returns the content of eval.json (an empty map on the ranks other than
     * 0). Holds the run directory's lock throughout. A failure other than a bad argument is thrown as
     * a {@link JobFailedException} with a one-line cause; its stack trace is in DIR/run.log.
     */
    public Map<String, Object> run() throws IOException {
        RunData data = RunData.open(config, RunData.Need.TRAIN_AND_EVAL);
        RewardFunction reward = Rewards.create(config.reward(), data.builtin());
        try (Collectives world = Collectives.join(launch, config.dist())) {
            try {
                if (!world.isRankZero()) {
                    boolean warmStartSaved = Files.isDirectory(run.warmStart());
                    world.barrier("waiting for rank 0 to check the run directory " + run.root());
                    return runRank(data, reward, world, warmStartSaved);
                }
                run.create();
                try (RunLock lock = RunLock.acquire(run.root())) {
                    RunRecord.checkContinues(run.root(), config, mayChange, advice);
                    RunRecord.write(run.root(), config);
                    config.writeYaml(run.config());
                    boolean warmStartSaved = Files.isDirectory(run.warmStart());
                    world.barrier("waiting for the other ranks to start");
                    return runRank(data, reward, world, warmStartSaved);
                }
            } catch (IOException | RuntimeException e) {
                world.reportFailure(e);
                throw e;
            }
        }
    }

    private Map<String, Object> runRank(RunData data, RewardFunction reward, Collectives world, boolean warmStartSaved)
            throws IOException {
        world.requireSame("whether " + run.warmStart() + " holds the warm start (every rank must see the same run directory: "
                + "a shared file system for ranks on several machines)", warmStartSaved ? 1 : 0);
        ComputeThreads.use(config.threads());
        try {
            return train(data, reward, world, warmStartSaved);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RankLostException e) {
            throw JobFailedException.recorded(run.log(), new IllegalStateException(e.getMessage()
                    + "; continue the run from its last checkpoint with train --resume " + run.root(), e));
        } catch (IOException | RuntimeException e) {
            throw JobFailedException.recorded(run.log(), e);
        }
    }

    private Map<String, Object> train(RunData data, RewardFunction reward, Collectives world, boolean warmStartSaved)
            throws IOException {
        boolean rankZero = world.isRankZero();
        try (Policy policy = warmStart(config, data, run.warmStart(), warmStartSaved, showProgress && rankZero, world)) {
            EvalResult before = rankZero ? evaluate(policy, reward, data) : null;
            Policy reference = config.loss().klEnabled() ? policy.frozenCopy() : null;
            try (RlTrainer trainer = new RlTrainer(config.rl(), run, policy, reference, data.train(), reward, world)
                    .showProgress(showProgress && rankZero)) {
                trainer.run();
            } finally {
                if (reference != null) reference.close();
            }
            if (!rankZero) return Map.of();
            PolicyDirectory.save(policy, run.finalPolicy());
            EvalResult after = evaluate(policy, reward, data);
            Map<String, Object> report = evalReport(config, before, after);
            AtomicFiles.write(run.eval(), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(report));
            List<Map<String, Object>> history = MetricsLogger.read(run.metrics());
            if (!history.isEmpty()) CurvePlotter.plotRun(history, run.curves());
            return report;
        }
    }

    /**
     * The policy RL starts from, saved in {@code dir}: loaded from {@code dir} when an earlier
     * attempt of the run saved it there, else the initial policy ({@code model.path} or a fresh
     * built-in model) after SFT on the run's demonstrations ({@code sft.steps}; fresh models only).
     * Every problem is checked against it first.
     */
    static Policy warmStart(RunConfig config, RunData data, Path dir, boolean showProgress) throws IOException {
        return warmStart(config, data, dir, Files.isDirectory(dir), showProgress, Collectives.single());
    }

    /**
     * {@link #warmStart(RunConfig, RunData, Path, boolean)} on every rank of {@code world}: SFT is
     * trained together, and rank 0 saves the result.
     *
     * @param saved whether {@code dir} held the warm start when the ranks started (the same answer on every rank)
     */
    private static Policy warmStart(RunConfig config, RunData data, Path dir, boolean saved, boolean showProgress,
                                    Collectives world) throws IOException {
        if (saved) {
            Policy policy = Policies.load(dir, config.model());
            Policies.check(policy, data.toCheck());
            LOG.info("warm start: {} (saved in {})", policy.describe(), dir);
            return policy;
        }
        Policy policy = Policies.initial(config, data);
        try {
            Policies.check(policy, data.toCheck());
            SftResult sft = null;
            if (!config.model().loaded() && config.sft().steps() > 0) {
                if (data.builtin() && config.task().teacherMissRate() > 0) {
                    LOG.info("SFT warm start on demonstrations by a teacher that overlooks {}% of the shapes it counts "
                            + "(task.teacher_miss_rate; answers, rewards and evaluation are exact)",
                            Math.round(100 * config.task().teacherMissRate()));
                }
                sft = new SftTrainer(policy, config.sft(), config.seed()).showProgress(showProgress).dataParallel(world)
                        .train(data.sft());
            }
            SftResult result = sft;
            if (world.isRankZero()) {
                PolicyDirectory.save(policy, dir, result == null ? null : d -> result.writeJson(d.resolve(RunDirectory.SFT_RESULT_FILE)));
                LOG.info("warm start: {} saved in {}", policy.describe(), dir);
            }
            return policy;
        } catch (IOException | RuntimeException e) {
            policy.close();
            throw e;
        }
    }

    /** Greedy accuracy on the held-out problems. */
    private EvalResult evaluate(Policy policy, RewardFunction reward, RunData data) {
        RewardFunction guarded = new GuardedReward(reward, config.reward().onError());
        return new Evaluator(policy, guarded, config.eval()).evaluate(data.heldOut());
    }

    /** eval.json: accuracy before and after RL, overall and per problem type. */
    static Map<String, Object> evalReport(RunConfig config, EvalResult before, EvalResult after) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("preset", config.preset());
        report.put("dataset", after.dataset());
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
        report.put("examples_after", after.examples());
        return report;
    }
}
