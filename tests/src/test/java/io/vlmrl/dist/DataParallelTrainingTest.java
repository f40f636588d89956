package io.vlmrl.dist;

import io.vlmrl.policy.Policy;
import io.vlmrl.rl.MetricNames;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.run.Policies;
import io.vlmrl.run.RunConfig;
import io.vlmrl.run.TrainJob;
import io.vlmrl.store.RunDirectory;
import io.vlmrl.store.TrainCheckpoint;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel runs of the CLI (2 ranks, Gloo over loopback, each a JVM of its own) against the
 * same run in one process: N ranks must compute what one process computes.
 *
 * <p>Tolerance: the ranks add the same numbers in another order (gradient sums, metric sums,
 * batched forwards of other sizes), so float32 results differ in the last bits; after the warm
 * start and 4 RL steps every metric agrees within 1e-4 relative (1e-6 absolute near 0) and every
 * parameter within 1e-5 absolute. Bitwise equality is not expected.
 */
class DataParallelTrainingTest {

    static final double METRIC_RTOL = 1e-4;
    static final double METRIC_ATOL = 1e-6;
    static final double PARAM_ATOL = 1e-5;

    @TempDir
    Path dir;

    /** A tiny model and job whose steps have gradients (the text-hash reward varies within groups). */
    static List<String> tiny(String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "model.image_size=32", "model.patch_size=8", "model.vision_width=32", "model.vision_layers=1",
                "model.hidden_size=32", "model.layers=1", "model.heads=2", "model.intermediate_size=64",
                "task.image_size=32", "sft.steps=4", "sft.batch_size=5", "eval.size=8", "eval.batch_size=8",
                "rollout.prompts_per_step=5", "rollout.group_size=4", "rollout.max_response_length=6",
                "reward.overlong_max_length=6", "reward.overlong_cache=2", "reward.class=" + TextHashReward.class.getName(),
                "optim.mini_batch_size=12", "optim.micro_batch_size=4", "optim.lr=0.003", "optim.warmup_steps=0",
                "loss.entropy_coef=0.05", "reuse.k_max=2", "reuse.t_ramp=0", "steps=4", "checkpoint.every=2", "threads=1"));
        sets.addAll(List.of(extra));
        return sets;
    }

    static List<String> cli(String command, String preset, Path out, List<String> sets, String... extra) {
        List<String> args = new ArrayList<>(List.of(command));
        if (preset != null) args.addAll(List.of("--preset", preset));
        args.addAll(List.of("--out", out.toString(), "--quiet"));
        args.addAll(List.of(extra));
        for (String s : sets) args.addAll(List.of("--set", s));
        return args;
    }

    static void assertSameRun(Path single, Path ranks) throws Exception {
        List<Map<String, Object>> a = MetricsLogger.read(RunDirectory.at(single).metrics());
        List<Map<String, Object>> b = MetricsLogger.read(RunDirectory.at(ranks).metrics());
        assertEquals(a.size(), b.size(), "records");
        for (int i = 0; i < a.size(); i++) {
            for (String name : MetricNames.ALL) {
                if (MetricNames.TIMING.contains(name)) continue;
                double x = ((Number) a.get(i).get(name)).doubleValue(), y = ((Number) b.get(i).get(name)).doubleValue();
                assertTrue(Math.abs(x - y) <= METRIC_ATOL + METRIC_RTOL * Math.abs(x),
                        "step " + i + " " + name + ": one process " + x + ", two ranks " + y);
            }
        }
        RunConfig config = RunConfig.load(RunDirectory.at(single).config());
        try (Policy p = Policies.load(RunDirectory.at(single).finalPolicy(), config.model());
             Policy q = Policies.load(RunDirectory.at(ranks).finalPolicy(), config.model());
             PointerScope scope = new PointerScope()) {
            Map<String, Tensor> x = p.trainableParameters(), y = q.trainableParameters();
            assertEquals(x.keySet(), y.keySet());
            for (String name : x.keySet()) {
                double diff = x.get(name).sub(y.get(name)).abs().max().item_double();
                assertTrue(diff <= PARAM_ATOL, name + ": parameters differ by " + diff);
            }
        }
    }

    static String run(Process p, Path log, long seconds) throws Exception {
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "still running after " + seconds + " s: " + Files.readString(log));
        return Files.readString(log);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ppo", "grpo", "dapo", "acpo", "apo"})
    void twoRanksTrainWhatOneProcessTrains(String preset) throws Exception {
        List<String> sets = tiny();
        Path single = dir.resolve("single"), ranks = dir.resolve("ranks"), log = dir.resolve("ranks.log");
        Process p = ChildJvm.start(log, Map.of(), cli("train", preset, ranks, sets, "--nproc", "2"));
        new TrainJob(RunConfig.resolve(preset, null, sets), single).showProgress(false).run();
        String out = run(p, log, 600);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("[rank 1] ") && out.contains("[rank 0] preset " + preset + ": held-out accuracy"), out);
        assertSameRun(single, ranks);
        // The steps trained: a test whose runs learned nothing could not tell the two apart.
        List<Map<String, Object>> m = MetricsLogger.read(RunDirectory.at(single).metrics());
        assertTrue(m.stream().anyMatch(r -> ((Number) r.get(MetricNames.GRAD_NORM)).doubleValue() > 0), "gradients");
    }

    @Test
    void aKilledRankStopsTheOtherNamingItAndTheRunResumesFromItsCheckpoint() throws Exception {
        List<String> sets = tiny("steps=1000", "dist.timeout_s=60");
        Path run = dir.resolve("run");
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Process[] rank = new Process[2];
        Path[] log = {dir.resolve("rank0.log"), dir.resolve("rank1.log")};
        for (int r = 0; r < 2; r++) {
            rank[r] = ChildJvm.start(log[r], Map.of("RANK", "" + r, "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                    "MASTER_PORT", "" + port), cli("train", "grpo", run, sets));
        }
        Path metrics = RunDirectory.at(run).metrics();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!(Files.exists(metrics) && Files.readAllLines(metrics).size() >= 5)) {
            assertTrue(rank[0].isAlive() && rank[1].isAlive(), Files.readString(log[0]) + Files.readString(log[1]));
            assertTrue(System.nanoTime() < deadline, "no 5 steps in 300 s: " + Files.readString(log[0]));
            Thread.sleep(50);
        }
        rank[1].destroyForcibly(); // SIGKILL
        // Rank 0 notices at once (its connection to rank 1 breaks); dist.timeout_s bounds the wait in any case.
        String out = run(rank[0], log[0], 60 + 30);
        assertNotEquals(0, rank[0].exitValue(), out);
        assertTrue(out.contains("rank 1 of 2 stopped") && out.contains("--resume"), out);

        // Continue with --resume (two ranks again, through the launcher), a few steps past the last checkpoint.
        Path last = TrainCheckpoint.latestIntact(RunDirectory.at(run));
        int resumeFrom = Integer.parseInt(last.getFileName().toString().substring("step-".length()));
        int steps = resumeFrom + 3;
        Path resumeLog = dir.resolve("resume.log");
        Process resumed = ChildJvm.start(resumeLog, Map.of(), List.of("train", "--resume", run.toString(), "--nproc", "2",
                "--quiet", "--set", "steps=" + steps));
        Path straight = dir.resolve("straight");
        List<String> straightSets = new ArrayList<>(sets);
        straightSets.add("steps=" + steps);
        new TrainJob(RunConfig.resolve("grpo", null, straightSets), straight).showProgress(false).run();
        String resumedOut = run(resumed, resumeLog, 600);
        assertEquals(0, resumed.exitValue(), resumedOut);
        assertSameRun(straight, run);
    }
}
