package io.vlmrl.bench;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Split;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.Rewards;
import io.vlmrl.rl.MetricNames;
import io.vlmrl.rl.RlTrainer;
import io.vlmrl.run.RunConfig;
import io.vlmrl.store.RunDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * One RL training step of the built-in model through the trainer's own API
 * ({@link RlTrainer#step()}: rollout generation, rewards, advantages, K passes of updates),
 * with {@code kernels.backend=fused} against {@code kernels.backend=eager}, and with
 * {@code model.share_prompt_compute} on (one prefill per group in rollout, one pass per distinct
 * prompt in training) against off. All start from the same untrained model and seeds, so they generate the same rollouts and
 * differ only in how the work is done.
 *
 * <p>Besides the time per step, the {@link StepTokens} counter reports the step's tokens
 * (generated plus trained, the trainer's own throughput count) as a secondary JMH metric,
 * from which the report derives tokens per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class TrainStepBenchmark {

    /** Preset of the run (grpo has a k3 KL term, so the step also runs the reference model). */
    @Param({"grpo"})
    public String preset;

    /**
     * Prompts (groups of rollout.group_size = 8 responses) per step. The trainer's default is
     * 16; the benchmark uses 4 (32 responses) so that a run on 2 cores stays short.
     */
    @Param({"4"})
    public int promptsPerStep;

    /** Responses per prompt (rollout.group_size, the trainer's default 8). */
    @Param({"8"})
    public int groupSize;

    /**
     * Image side in pixels (model.image_size = task.image_size; 12-pixel patches, so 48 gives 16
     * image tokens and 144 gives 144): the larger the image, the larger the prompt's share of a step.
     */
    @Param({"48"})
    public int imageSize;

    /** model.share_prompt_compute: a group's prompt (image and tokens) run once, or per response. */
    @Param({"true", "false"})
    public boolean sharePromptCompute;

    private Path runDir;
    private Policy policy;
    private Policy reference;
    private RlTrainer trainer;

    /** Tokens the measured steps processed (JMH sums it per iteration and divides by time). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class StepTokens {
        public long tokens;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) throws IOException {
        int threads = BenchThreads.configure();
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        String kernels = method.equals("fused") ? "fused" : "eager";
        RunConfig config = RunConfig.ofPreset(preset).with(
                "kernels.backend=" + kernels,
                "threads=" + threads,
                "rollout.prompts_per_step=" + promptsPerStep,
                "rollout.group_size=" + groupSize,
                "model.share_prompt_compute=" + sharePromptCompute,
                "model.image_size=" + imageSize,
                "task.image_size=" + imageSize,
                "steps=1000000",
                "checkpoint.every=0");
        policy = BuiltinPolicy.create(config.model(), WordTokenizer.fromWords(BuiltinTask.vocabulary()), 1234);
        reference = config.loss().klEnabled() ? policy.frozenCopy() : null;
        runDir = Files.createTempDirectory("vlmrl-bench-train-");
        trainer = new RlTrainer(config.rl(), RunDirectory.at(runDir), policy, reference,
                new BuiltinTask(config.task()).dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL),
                Rewards.create(config.reward(), true)).showProgress(false);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        trainer.close();
        if (reference != null) reference.close();
        policy.close();
        try (Stream<Path> files = Files.walk(runDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public double fused(StepTokens counter) {
        return step(counter);
    }

    @Benchmark
    public double eager(StepTokens counter) {
        return step(counter);
    }

    private double step(StepTokens counter) {
        try {
            RlTrainer.StepReport report = trainer.step();
            double seconds = report.metrics().get(MetricNames.STEP_TIME);
            counter.tokens += Math.round(report.metrics().get(MetricNames.TOKENS_PER_S) * seconds);
            return seconds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
