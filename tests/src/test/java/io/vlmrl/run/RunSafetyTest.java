package io.vlmrl.run;

import io.vlmrl.cli.Main;
import io.vlmrl.files.DamagedFileException;
import io.vlmrl.files.DiskWrites;
import io.vlmrl.rl.DivergenceException;
import io.vlmrl.rl.MetricNames;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.store.RunDirectory;
import io.vlmrl.store.RunLock;
import io.vlmrl.store.TrainCheckpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault injection on a tiny model: each case reproduces a way a run could lose, corrupt or
 * mislabel work, and checks what vlmrl does instead (issue "Runs that never lose, corrupt or
 * mislabel work").
 */
class RunSafetyTest {

    @TempDir
    Path dir;

    static final List<String> TINY = List.of(
            "model.image_size=24", "model.patch_size=12", "model.vision_width=16", "model.vision_layers=1",
            "model.hidden_size=32", "model.layers=1", "model.heads=2", "model.intermediate_size=48",
            "sft.steps=3", "sft.batch_size=4", "eval.size=4", "eval.batch_size=4",
            "rollout.prompts_per_step=2", "rollout.group_size=3", "steps=4", "checkpoint.every=2",
            "optim.mini_batch_size=6", "optim.micro_batch_size=6", "curriculum.tau=-1", "curriculum.n_max=3");

    static RunConfig tiny(String preset, String... extra) {
        List<String> sets = new ArrayList<>(TINY);
        sets.addAll(List.of(extra));
        return RunConfig.resolve(preset, null, sets);
    }

    static Map<String, Object> train(RunConfig c, Path run) throws Exception {
        return new TrainJob(c, run).showProgress(false).run();
    }

    @AfterEach
    void diskIsUnlimitedAgain() {
        DiskWrites.unlimited();
    }

    /** The metrics of two runs agree except wall-clock timing. */
    static void assertSameMetrics(Path a, Path b) throws Exception {
        List<Map<String, Object>> x = MetricsLogger.read(RunDirectory.at(a).metrics());
        List<Map<String, Object>> y = MetricsLogger.read(RunDirectory.at(b).metrics());
        assertEquals(x.size(), y.size(), "records");
        for (int i = 0; i < x.size(); i++) {
            for (String name : MetricNames.ALL) {
                if (!MetricNames.TIMING.contains(name)) assertEquals(x.get(i).get(name), y.get(i).get(name), "step " + i + " " + name);
            }
        }
    }

    // ---- 1. one run per directory ----

    @Test
    void aSecondRunInTheSameDirectoryIsRefusedNamingTheOwnerAndAStaleLockIsTakenOver() throws Exception {
        Path run = dir.resolve("run");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(), run.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            var e = assertThrows(IllegalArgumentException.class, () -> train(tiny("grpo"), run));
            assertTrue(e.getMessage().contains("in use by another run") && e.getMessage().contains("process " + holder.pid()),
                    e.getMessage());
            assertFalse(Files.exists(RunDirectory.at(run).metrics()), "the refused run wrote nothing");
        } finally {
            holder.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        // The killed holder left its name in the lock file: the next run takes the lock over.
        assertTrue(Files.readString(run.resolve(RunLock.FILE)).contains("process " + holder.pid()));
        train(tiny("grpo"), run);
        assertEquals("", Files.readString(run.resolve(RunLock.FILE)), "released on exit, with no owner left behind");
        // In one process, a second run of the same directory is refused too.
        try (RunLock held = RunLock.acquire(run)) {
            assertThrows(IllegalArgumentException.class, () -> RunLock.acquire(run));
        }
    }

    // ---- 2. the warm start is part of the run ----

    @Test
    void aResumedRunFromAGivenModelNeverRebuildsItsWarmStart() throws Exception {
        Path sft = dir.resolve("sft");
        SftJob.run(tiny("acpo", "sft.steps=6"), sft, false, false);
        Path straight = dir.resolve("straight"), crashed = dir.resolve("crashed");
        RunConfig c = tiny("acpo", "checkpoint.every=100").withoutChanges(io.vlmrl.model.ModelConfig::sizesBuiltinModel)
                .with("model.path=" + sft);
        Map<String, Object> a = train(c, straight);
        train(c, crashed);
        // The state a kill -9 after 2 RL steps, before the first checkpoint, leaves behind:
        RunDirectory r = RunDirectory.at(crashed);
        for (Path p : List.of(r.checkpoints(), r.finalPolicy(), r.eval(), r.curves())) io.vlmrl.files.AtomicFiles.deleteRecursively(p);
        List<String> lines = Files.readAllLines(r.metrics());
        Files.write(r.metrics(), lines.subList(0, 2));
        // Even with the model it started from gone, the run continues from its own warm start.
        io.vlmrl.files.AtomicFiles.deleteRecursively(sft);
        Map<String, Object> b = train(RunConfig.load(r.config()), crashed);
        assertEquals(a.get("accuracy_before"), b.get("accuracy_before"));
        assertSameMetrics(straight, crashed);
    }

    // ---- 3. config.yaml must say what the run was made with ----

    @Test
    void aResumeWithACutOrEmptiedConfigIsRefusedNamingTheKeys() throws Exception {
        Path run = dir.resolve("run");
        train(tiny("acpo"), run);
        Path config = RunDirectory.at(run).config();
        List<String> lines = Files.readAllLines(config);
        Files.write(config, lines.subList(0, lines.size() / 2));
        Object[] r = cli("train", "--resume", run.toString(), "--quiet");
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("other settings") && ((String) r[1]).contains("->"), (String) r[1]);
        Files.writeString(config, "");
        r = cli("train", "--resume", run.toString(), "--quiet");
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("rollout.group_size: 3 -> 8"), (String) r[1]);
        Files.writeString(config, "rollout: [unclosed\n");
        r = cli("train", "--resume", run.toString(), "--quiet");
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("config.yaml") && ((String) r[1]).contains("not valid YAML"), (String) r[1]);
        // A key given with --set on the resume may change (e.g. more steps), the others may not.
        Files.write(config, lines);
        r = cli("train", "--resume", run.toString(), "--quiet", "--set", "steps=5");
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(5, MetricsLogger.read(RunDirectory.at(run).metrics()).size());
    }

    // ---- 4. outputs are checked before any work ----

    @Test
    void sftDoesNotOverwriteAModelAndFileOutputsAreRefusedBeforeWork() throws Exception {
        Path model = dir.resolve("model");
        SftJob.run(tiny("acpo"), model, false, false);
        byte[] before = Files.readAllBytes(model.resolve("model.pt"));
        String[] sftArgs = withTiny("sft", "--out", model.toString(), "--quiet", "--set", "model.hidden_size=64");
        Object[] r = cli(sftArgs);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("already holds a model") && ((String) r[1]).contains("--force"), (String) r[1]);
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(model.resolve("model.pt"))), "the model is unchanged");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        r = cli(withTiny("sft", "--out", file.toString(), "--quiet"));
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("--out") && ((String) r[1]).contains("file"), (String) r[1]);
        r = cli(withTiny("train", "--out", file.toString(), "--quiet"));
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("--out") && ((String) r[1]).contains("file"), (String) r[1]);
        r = cli(withTiny("sft", "--out", model.toString(), "--quiet", "--force"));
        assertEquals(0, r[0], (String) r[1]);
    }

    // ---- 5 and 6. damaged files are found, named, and skipped where possible ----

    private static void flipBytes(Path file, long at) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long offset = Math.min(at, f.length() - 8);
            for (int i = 0; i < 8; i++) {
                f.seek(offset + i);
                int b = f.read();
                f.seek(offset + i);
                f.write(b ^ 0x5a);
            }
        }
    }

    private static void truncate(Path file) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
    }

    @Test
    void aDamagedLatestCheckpointFallsBackToTheNewestIntactOne() throws Exception {
        Path straight = dir.resolve("straight");
        train(tiny("apo"), straight);
        for (String damaged : List.of(TrainCheckpoint.OPTIMIZER, TrainCheckpoint.STATE, "policy/model.pt")) {
            Path run = dir.resolve("run-" + damaged.replace('/', '-'));
            train(tiny("apo", "steps=4"), run);
            Path latest = RunDirectory.at(run).checkpoints().resolve("step-000004");
            if (damaged.equals(TrainCheckpoint.STATE)) truncate(latest.resolve(damaged));
            else flipBytes(latest.resolve(damaged), Files.size(latest.resolve(damaged)) / 2);
            Path intact = TrainCheckpoint.latestIntact(RunDirectory.at(run));
            assertEquals("step-000002", intact.getFileName().toString(), damaged);
            // Resume with more steps: from step 2 again, reproducing the uninterrupted run.
            train(RunConfig.load(RunDirectory.at(run).config()), run);
            assertSameMetrics(straight, run);
        }
    }

    @Test
    void whenNoCheckpointIsIntactTheErrorNamesTheDamagedFile() throws Exception {
        Path run = dir.resolve("run");
        train(tiny("grpo"), run);
        for (Path c : TrainCheckpoint.checkpoints(RunDirectory.at(run))) flipBytes(c.resolve(TrainCheckpoint.OPTIMIZER), 200);
        var e = assertThrows(DamagedFileException.class, () -> TrainCheckpoint.latestIntact(RunDirectory.at(run)));
        assertTrue(e.getMessage().contains("optimizer.pt") && e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void corruptedWeightsAreRefusedNamingTheFileOrTheTensor() throws Exception {
        Path run = dir.resolve("run");
        train(tiny("grpo"), run);
        Path fin = RunDirectory.at(run).finalPolicy();
        flipBytes(fin.resolve("model.pt"), Files.size(fin.resolve("model.pt")) / 2);
        Object[] r = cli("eval", "--model", fin.toString(), "--out", dir.resolve("e.json").toString(),
                "--set", "eval.size=4");
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("model.pt") && ((String) r[1]).contains("corrupted"), (String) r[1]);
        // A model without a manifest (one a user copied) is still refused when a tensor holds NaN.
        io.vlmrl.model.BuiltinPolicy policy = io.vlmrl.model.BuiltinPolicy.load(RunDirectory.at(run).warmStart(), false);
        Path copy = dir.resolve("copy");
        policy.save(copy);
        try (var noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
            policy.model().namedParameters().get("language.model.norm.weight").fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        }
        var saveError = assertThrows(java.io.IOException.class, () -> policy.save(dir.resolve("nan")));
        assertTrue(saveError.getMessage().contains("language.model.norm.weight"), saveError.getMessage());
        try (org.bytedeco.pytorch.OutputArchive archive = new org.bytedeco.pytorch.OutputArchive()) {
            policy.model().namedParameters().forEach((name, p) -> archive.write(name, p.detach()));
            io.vlmrl.files.ArchiveFiles.save(archive, copy.resolve("model.pt"));
        }
        var loadError = assertThrows(java.io.IOException.class, () -> Policies.load(copy, false));
        assertTrue(loadError.getMessage().contains("language.model.norm.weight") && loadError.getMessage().contains("NaN"),
                loadError.getMessage());
    }

    // ---- 7. a full disk ----

    @Test
    void aFullDiskStopsTheRunCleanlyKeepsThePreviousCheckpointAndResumes() throws Exception {
        Path straight = dir.resolve("straight"), run = dir.resolve("run");
        RunConfig c = tiny("acpo", "steps=6", "checkpoint.every=2", "checkpoint.keep=5");
        train(c, straight);
        // The disk fills up half-way through the second checkpoint's files.
        DiskWrites.fullAfter(p -> p.toString().contains("step-000004"), 20_000);
        var e = assertThrows(JobFailedException.class, () -> train(c, run));
        assertTrue(e.getMessage().contains("No space left on device") && e.getMessage().contains("step-000004"), e.getMessage());
        assertTrue(e.getMessage().contains("run.log"), e.getMessage());
        DiskWrites.unlimited();
        try (Stream<Path> files = Files.walk(RunDirectory.at(run).checkpoints())) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "temporary files are cleaned up");
        }
        assertEquals("step-000002", TrainCheckpoint.latestIntact(RunDirectory.at(run)).getFileName().toString());
        // Space freed: the same command continues and matches the uninterrupted run.
        train(c, run);
        assertSameMetrics(straight, run);
    }

    @Test
    void aFullTmpfsGivesTheSameCleanErrorWhereTheMachineCanMountOne() throws Exception {
        Path small = Files.createDirectories(dir.resolve("small"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
        org.junit.jupiter.api.Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (the write hook above covers it)");
        try {
            var e = assertThrows(Exception.class, () -> train(tiny("acpo", "checkpoint.every=1"), small.resolve("run")));
            String message = e.getMessage();
            assertTrue(message.contains("No space left on device"), message);
            try (Stream<Path> files = Files.walk(small)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files are cleaned up");
            }
        } finally {
            new ProcessBuilder("umount", small.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    // ---- 8. retention; the history is stored once ----

    @Test
    void onlyTheNewestCheckpointsAreKeptAndTheHistoryIsNotRepeated() throws Exception {
        Path run = dir.resolve("run");
        train(tiny("grpo", "steps=6", "checkpoint.every=1", "checkpoint.keep=2"), run);
        List<String> names = TrainCheckpoint.checkpoints(RunDirectory.at(run)).stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("step-000005", "step-000006"), names);
        String state = Files.readString(RunDirectory.at(run).checkpoints().resolve("step-000006").resolve(TrainCheckpoint.STATE));
        assertFalse(state.contains("pg_loss"), "state.json holds the offset into metrics.jsonl, not the history: " + state);
        assertTrue(state.contains("\"metrics_records\" : 6"), state);
    }

    // ---- 9. divergence ----

    @Test
    void aDivergingRunStopsNamingTheStepAndTheQuantity() throws Exception {
        Path run = dir.resolve("run");
        RunConfig c = tiny("grpo", "optim.lr=1", "optim.weight_decay=10", "optim.warmup_steps=0", "steps=30",
                "checkpoint.every=0");
        var e = assertThrows(JobFailedException.class, () -> train(c, run));
        assertTrue(e.getCause() instanceof DivergenceException, String.valueOf(e.getCause()));
        assertTrue(e.getMessage().matches("step \\d+: .* became NaN or infinite.*lower optim.lr.*"), e.getMessage());
        assertTrue(Files.readString(RunDirectory.at(run).log()).contains("DivergenceException"), "the trace is in run.log");
    }

    /** A policy loss whose gradient is NaN: every update of a run with it diverges. */
    private static final String NAN_LOSS = "nan-gradient-test";

    static {
        io.vlmrl.loss.PolicyLossRegistry.register(NAN_LOSS, (in, cfg) -> {
            io.vlmrl.loss.PolicyLossResult r = io.vlmrl.loss.PolicyLossRegistry.get("ppo").compute(in, cfg);
            r.gradLogp().mul_(new org.bytedeco.pytorch.Scalar(Double.NaN));
            return r;
        });
    }

    @Test
    void aNonFiniteGradientStopsTheRunOrIsSkippedAndCounted() throws Exception {
        var stop = assertThrows(JobFailedException.class, () -> train(tiny("grpo", "loss.mode=" + NAN_LOSS), dir.resolve("stop")));
        assertTrue(stop.getMessage().startsWith("step 0: the gradient norm became NaN or infinite"), stop.getMessage());
        Path skipped = dir.resolve("skip");
        Map<String, Object> report = train(tiny("grpo", "loss.mode=" + NAN_LOSS, "optim.on_non_finite=skip"), skipped);
        for (Map<String, Object> r : MetricsLogger.read(RunDirectory.at(skipped).metrics())) {
            assertEquals(1.0, ((Number) r.get(MetricNames.SKIPPED_UPDATES)).doubleValue(), "the step's one update was dropped");
        }
        assertEquals(report.get("accuracy_before"), report.get("accuracy_after"), "no update was applied");
    }

    @Test
    void anEntropyCollapseIsReportedOnce() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            train(tiny("grpo", "optim.entropy_warning=100"), dir.resolve("run"));
        } finally {
            System.setErr(original);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        int first = text.indexOf("mean token entropy fell");
        assertTrue(first >= 0, text);
        assertEquals(-1, text.indexOf("mean token entropy fell", first + 1), "warned once");
    }

    // ---- 10. errors and exit codes ----

    @Test
    void exitCodesAreTwoForUserErrorsAndOneForFailuresWithTheTraceInTheLog() throws Exception {
        Object[] r = cli(withTiny("train", "--out", dir.resolve("a").toString(), "--quiet", "--set", "rollout.group_size=0"));
        assertEquals(2, r[0]);
        assertOneErrorLine((String) r[1]);
        r = cli(withTiny("train", "--out", dir.resolve("b").toString(), "--quiet", "--set", "optim.lr=1",
                "--set", "optim.weight_decay=10", "--set", "optim.warmup_steps=0", "--set", "steps=30",
                "--set", "checkpoint.every=0"));
        assertEquals(1, r[0], (String) r[1]);
        assertOneErrorLine((String) r[1]);
        assertTrue(((String) r[1]).contains("details in " + RunDirectory.at(dir.resolve("b")).log()), (String) r[1]);
    }

    @Test
    void killingTheCommandTheUserStartedEndsTheRelaunchedJvmAtOnce() throws Exception {
        Path run = dir.resolve("run");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(withTiny("train", "--out", run.toString(), "--quiet", "--set", "steps=100000",
                "--set", "checkpoint.every=1")));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.log").toFile());
        builder.environment().remove("OMP_WAIT_POLICY"); // so that the CLI relaunches itself
        Process parent = builder.start();
        try {
            Path metrics = RunDirectory.at(run).metrics();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while ((!Files.exists(metrics) || Files.readAllLines(metrics).size() < 2) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(metrics), "the run started: " + Files.readString(dir.resolve("out.log")));
            List<ProcessHandle> children = parent.toHandle().children().toList();
            assertEquals(1, children.size(), "the CLI relaunched one JVM");
            parent.destroyForcibly(); // kill -9
            parent.waitFor();
            assertTrue(children.get(0).onExit().get(30, TimeUnit.SECONDS) != null && !children.get(0).isAlive(),
                    "the relaunched JVM ended with its parent");
            int records = Files.readAllLines(metrics).size();
            Thread.sleep(500);
            assertEquals(records, Files.readAllLines(metrics).size(), "nothing is written after the kill");
        } finally {
            parent.descendants().forEach(ProcessHandle::destroyForcibly);
            parent.destroyForcibly();
        }
    }

    // ---- helpers ----

    /** stderr holds one error line and no stack trace (warnings of the run may precede it). */
    private static void assertOneErrorLine(String stderr) {
        assertEquals(1, stderr.lines().filter(l -> l.startsWith("error: ")).count(), stderr);
        assertTrue(stderr.lines().noneMatch(l -> l.startsWith("\tat ") || l.startsWith("Caused by")), stderr);
    }

    /** {@code args} with the tiny settings as {@code --set}s; the caller's own {@code --set}s win. */
    private static String[] withTiny(String... args) {
        List<String> out = new ArrayList<>(), own = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--set")) {
                own.add(args[i]);
                own.add(args[++i]);
            } else {
                out.add(args[i]);
            }
        }
        for (String t : TINY) {
            String key = t.substring(0, t.indexOf('='));
            if (own.stream().noneMatch(o -> o.startsWith(key + "="))) {
                out.add("--set");
                out.add(t);
            }
        }
        out.addAll(own);
        return out.toArray(new String[0]);
    }

    /** Runs the CLI in this JVM; returns (exit code, stderr). */
    private static Object[] cli(String... args) {
        io.vlmrl.cli.Cli.Result r = io.vlmrl.cli.Cli.run(args);
        return new Object[] {r.code(), r.err()};
    }
}
