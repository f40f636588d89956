package io.vlmrl.cli;

import io.vlmrl.rl.MetricNames;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.run.RunConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {

    @TempDir
    Path dir;

    /** Runs the CLI and returns (exit code, stderr). */
    private static Object[] run(String... args) {
        Cli.Result r = Cli.run(args);
        return new Object[] {r.code(), r.err()};
    }

    private static void assertRefused(String fragment, String... args) {
        Object[] r = run(args);
        assertEquals(2, r[0], "exit code for " + String.join(" ", args) + "; stderr: " + r[1]);
        assertTrue(((String) r[1]).contains(fragment), "stderr '" + r[1] + "' lacks '" + fragment + "'");
    }

    @Test
    void everyCommandsHelpIsPrintedWithoutFormatWarnings() {
        // A bare '%' in an option's description makes picocli print a warning instead of the text.
        for (String[] command : List.of(new String[] {"train"}, new String[] {"sft"}, new String[] {"eval"},
                new String[] {"compare"}, new String[] {"config"}, new String[] {"task", "export"},
                new String[] {"score"}, new String[] {"generate"})) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "--help";
            Cli.Result r = Cli.run(args);
            assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.out().contains("Usage: vlmrl " + String.join(" ", command)), r.out());
            assertTrue(!(r.out() + r.err()).contains("WARN"), String.join(" ", args) + ": " + r.out() + r.err());
        }
    }

    @Test
    void badArgumentsAreNamed() throws Exception {
        String out = dir.resolve("run").toString();
        assertRefused("unknown config key 'optim.learningrate'", "train", "--out", out, "--set", "optim.learningrate=1");
        assertRefused("rollout.group_size", "train", "--out", out, "--set", "rollout.group_size=-3");
        assertRefused("preset", "train", "--preset", "trpo", "--out", out);
        assertRefused("--out", "train", "--preset", "acpo");
        assertRefused("--config", "train", "--out", out, "--config", dir.resolve("missing.yaml").toString());
        assertRefused("--resume", "train", "--resume", dir.resolve("nothing").toString());
        assertRefused("--presets", "compare", "--presets", "grpo,xyz", "--out", out);
        assertRefused("--window", "compare", "--presets", "grpo", "--out", out, "--window", "0");
        assertRefused("model.path", "eval", "--model", dir.resolve("nothing").toString(), "--out", dir.resolve("e.json").toString());
        assertRefused("--model", "eval", "--out", dir.resolve("e.json").toString());
        assertRefused("--out", "sft");
        assertRefused("subcommand");
        assertRefused("--model: also given as --set model.path=b", "train", "--out", out, "--model", "a", "--set", "model.path=b");
        // A user's data that does not exist is refused before any work, naming the key.
        assertRefused("data.train", "train", "--out", out, "--data", dir.resolve("none.jsonl").toString(),
                "--eval-data", dir.resolve("none.jsonl").toString());
        assertRefused("data.eval", "train", "--out", out, "--data", oneProblem().toString());
        assertRefused("reward.class", "train", "--out", out, "--set", "reward.class=com.acme.NoSuchReward");
        // Nothing was started for any refused command.
        assertTrue(!Files.exists(dir.resolve("run").resolve("metrics.jsonl")));
        assertTrue(!Files.exists(dir.resolve("run").resolve("warmstart")));
    }

    /** A JSONL file with one valid problem. */
    private Path oneProblem() throws java.io.IOException {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(image, "png", dir.resolve("one.png").toFile());
        return Files.writeString(dir.resolve("one.jsonl"), "{\"image\": \"one.png\", \"question\": \"q ?\", \"answer\": \"1\"}\n");
    }

    @Test
    void trainWritesEveryOutputAndResumes() throws Exception {
        Path out = dir.resolve("run");
        String[] tiny = {"--set", "model.image_size=32", "--set", "task.image_size=32", "--set", "model.patch_size=8", "--set", "model.vision_width=32", "--set", "model.vision_layers=1",
                "--set", "model.hidden_size=32", "--set", "model.layers=1", "--set", "model.heads=2",
                "--set", "model.intermediate_size=64", "--set", "sft.steps=3", "--set", "sft.batch_size=8",
                "--set", "eval.size=6", "--set", "rollout.prompts_per_step=2", "--set", "rollout.group_size=3",
                "--set", "steps=2", "--set", "checkpoint.every=1", "--set", "optim.mini_batch_size=6",
                "--set", "optim.micro_batch_size=6", "--set", "curriculum.tau=-1", "--set", "curriculum.n_max=3"};
        String[] args = new String[tiny.length + 6];
        System.arraycopy(new String[] {"train", "--preset", "acpo", "--out", out.toString(), "--quiet"}, 0, args, 0, 6);
        System.arraycopy(tiny, 0, args, 6, tiny.length);
        Object[] r = run(args);
        assertEquals(0, r[0], (String) r[1]);
        for (String f : List.of("config.yaml", "metrics.jsonl", "curves.png", "eval.json")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        Map<?, ?> eval = new ObjectMapper().readValue(out.resolve("eval.json").toFile(), Map.class);
        assertTrue(eval.containsKey("accuracy_before") && eval.containsKey("accuracy_after") && eval.containsKey("by_type"));
        assertEquals(2, MetricsLogger.read(out.resolve("metrics.jsonl")).size());

        // --resume of a finished run with more steps continues from its last checkpoint.
        r = run("train", "--resume", out.toString(), "--quiet", "--set", "steps=3");
        assertEquals(0, r[0], (String) r[1]);
        List<Map<String, Object>> records = MetricsLogger.read(out.resolve("metrics.jsonl"));
        assertEquals(3, records.size());
        assertTrue(records.get(2).containsKey(MetricNames.REUSE_K));

        // The same --out with other settings is refused, naming the key, instead of resuming.
        String[] changed = java.util.Arrays.copyOf(args, args.length + 2);
        changed[args.length] = "--set";
        changed[args.length + 1] = "optim.lr=0.001";
        assertRefused("optim.lr: 1.0E-5 -> 0.001", changed);
        assertRefused("--resume " + out, changed);
        assertEquals(3, MetricsLogger.read(out.resolve("metrics.jsonl")).size());
    }

    @Test
    void compareRefusesAWarmStartMadeWithOtherSettings() throws Exception {
        Path out = dir.resolve("cmp");
        Path warm = Files.createDirectories(out.resolve("seed-7").resolve("warmstart"));
        Files.writeString(warm.resolve(io.vlmrl.model.Checkpoint.WEIGHTS_FILE), "not a model");
        assertRefused("unknown settings", "compare", "--presets", "grpo", "--out", out.toString());
        RunConfig.ofPreset("grpo").with("task.teacher_miss_rate=0").writeYaml(warm.resolve("config.yaml"));
        assertRefused("task.teacher_miss_rate: 0.0 -> 0.45", "compare", "--presets", "acpo", "--out", out.toString());
        // Only the keys the warm start depends on count: the RL keys differ between the presets sharing it.
        RunConfig.ofPreset("grpo").writeYaml(warm.resolve("config.yaml"));
        Object[] r = run("compare", "--presets", "acpo", "--out", out.toString(), "--set", "sft.steps=7");
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("(sft.steps: 1000 -> 7)"), (String) r[1]);
    }

    /** Runs the CLI and returns (exit code, stdout). */
    private static Object[] runOut(String... args) {
        Cli.Result r = Cli.run(args);
        return new Object[] {r.code(), r.out()};
    }

    @Test
    void configListsEveryKeyWithItsValueDefaultRangeAndHelp() {
        Object[] r = runOut("config", "--preset", "dapo", "--set", "rollout.group_size=4");
        assertEquals(0, r[0]);
        String text = (String) r[1];
        for (io.vlmrl.config.Setting s : RunConfig.schema().settings().values()) {
            assertTrue(text.contains(s.key()), "config does not list " + s.key());
            assertTrue(text.contains(s.help()), "config does not show the help of " + s.key());
        }
        assertTrue(text.matches("(?s).*rollout\\.group_size +4 .*"), "the value set on the command line is shown");
        assertTrue(text.matches("(?s).*loss\\.mode +clip-higher .*"), "the preset's value is shown");
        assertTrue(text.contains("default 8; an integer in [1, 1024]"), text);
        Object[] help = runOut("train", "--help");
        assertTrue(((String) help[1]).contains("vlmrl config"), "train --help points to the key listing");
    }

    @Test
    void taskExportWritesADatasetTheUserDataPathReads() {
        Path out = dir.resolve("exported");
        Object[] r = runOut("task", "export", "--out", out.toString(), "--train", "5", "--eval", "3");
        assertEquals(0, r[0]);
        assertEquals(5, io.vlmrl.data.JsonlDataset.load(out.resolve("train.jsonl")).size());
        assertEquals(3, io.vlmrl.data.JsonlDataset.load(out.resolve("eval.jsonl")).size());
        assertRefused("--train", "task", "export", "--out", out.toString(), "--train", "0");
    }
}
