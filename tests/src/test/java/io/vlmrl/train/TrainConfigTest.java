package io.vlmrl.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {

    @TempDir
    Path dir;

    private static void assertRefused(String expectedFragment, Runnable action) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
        assertTrue(e.getMessage().contains(expectedFragment), "message '" + e.getMessage() + "' lacks '" + expectedFragment + "'");
    }

    @Test
    void learningRateWarmsUpLinearlyThenStaysConstant() {
        TrainConfig c = TrainConfig.resolve("acpo", null, List.of("optim.lr=1e-5", "optim.warmup_steps=4"));
        assertEquals(0.2e-5, c.lrAt(0), 1e-18);
        assertEquals(0.8e-5, c.lrAt(3), 1e-18);
        assertEquals(1e-5, c.lrAt(4), 1e-18);
        assertEquals(1e-5, c.lrAt(1000), 1e-18);
        TrainConfig none = TrainConfig.resolve("acpo", null, List.of("optim.lr=1e-5", "optim.warmup_steps=0"));
        assertEquals(1e-5, none.lrAt(0), 1e-18);
    }

    @Test
    void modelDefaultsAreVlmConfigDefaults() {
        TrainConfig c = TrainConfig.resolve("acpo", null, List.of());
        io.vlmrl.model.VlmConfig d = io.vlmrl.model.VlmConfig.builder().build();
        io.vlmrl.model.VlmConfig m = c.modelConfig(TrainPipeline.defaultTokenizer());
        assertEquals(d.patchSize(), m.patchSize());
        assertEquals(d.mergeSize(), m.mergeSize());
        assertEquals(d.intermediateSize(), m.intermediateSize());
        assertEquals(d.hiddenSize(), m.hiddenSize());
    }

    @Test
    void unknownKeyIsRefusedByName() {
        assertRefused("unknown config key 'optim.learning_rate'",
                () -> TrainConfig.resolve("acpo", null, List.of("optim.learning_rate=0.1")));
    }

    @Test
    void outOfRangeValueNamesKeyValueAndRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.resolve("acpo", null, List.of("rollout.group_size=0")));
        assertTrue(e.getMessage().contains("rollout.group_size"), e.getMessage());
        assertTrue(e.getMessage().contains("'0'"), e.getMessage());
        assertTrue(e.getMessage().contains("[1, 1024]"), e.getMessage());
        assertRefused("loss.eps_low", () -> TrainConfig.resolve("ppo", null, List.of("loss.eps_low=1.5")));
        assertRefused("one of [ppo, clip-higher, aaac]",
                () -> TrainConfig.resolve("ppo", null, List.of("loss.clip_mode=wide")));
        assertRefused("true or false", () -> TrainConfig.resolve("ppo", null, List.of("loss.dads=yes")));
        assertRefused("optim.lr", () -> TrainConfig.resolve("ppo", null, List.of("optim.lr=NaN")));
        assertRefused("steps", () -> TrainConfig.resolve("ppo", null, List.of("steps=2.5")));
        assertRefused("--set: expected key=value", () -> TrainConfig.resolve("ppo", null, List.of("steps")));
        assertRefused("preset", () -> TrainConfig.resolve("trpo", null, List.of()));
        assertRefused("task.teacher_miss_rate", () -> TrainConfig.resolve("acpo", null, List.of("task.teacher_miss_rate=1")));
        assertEquals(0.99, TrainConfig.resolve("acpo", null, List.of("task.teacher_miss_rate=0.99")).taskConfig().teacherMissRate());
    }

    @Test
    void differencesNameTheKeysThatDiffer() {
        TrainConfig a = TrainConfig.ofPreset("acpo");
        TrainConfig b = a.with("optim.lr=0.001", "sft.steps=7");
        assertEquals(List.of("sft.steps: 1000 -> 7", "optim.lr: 1.0E-5 -> 0.001"), a.differences(b, key -> true));
        assertEquals(List.of("sft.steps: 1000 -> 7"), a.differences(b, key -> key.startsWith("sft.")));
        assertEquals(List.of(), a.differences(a, key -> true));
    }

    @Test
    void crossKeyRulesAreChecked() {
        assertRefused("curriculum.n_max", () -> TrainConfig.resolve("acpo", null, List.of("rollout.group_size=4", "curriculum.n_max=5")));
        assertRefused("optim.micro_batch_size", () -> TrainConfig.resolve("acpo", null, List.of("optim.mini_batch_size=8", "optim.micro_batch_size=16")));
        assertRefused("loss.aaac_eps_max", () -> TrainConfig.resolve("acpo", null, List.of("loss.aaac_eps_min=0.3", "loss.aaac_eps_max=0.25")));
        assertRefused("hiddenSize", () -> TrainConfig.resolve("acpo", null, List.of("model.hidden_size=30", "model.heads=4")));
        assertRefused("task.max_difficulty", () -> TrainConfig.resolve("acpo", null, List.of("task.min_difficulty=3", "task.max_difficulty=2")));
    }

    @Test
    void yamlFileNestedOrDottedThenSetOverrides() throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, "preset: dapo\nrollout:\n  group_size: 4\n  temperature: 0.7\noptim.lr: 0.01\nsteps: 5\n");
        TrainConfig c = TrainConfig.resolve(null, yaml, List.of("steps=9"));
        assertEquals("dapo", c.preset());
        assertEquals("clip-higher", c.clipMode());
        assertEquals(4, c.groupSize());
        assertEquals(0.7, c.temperature());
        assertEquals(0.01, c.lr());
        assertEquals(9, c.steps(), "--set wins over the file");
        assertEquals(3, c.gateNMax(), "N_max defaults to G - 1");
    }

    @Test
    void yamlUnknownKeyIsRefused() throws Exception {
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "rollout:\n  groupsize: 4\n");
        assertRefused("unknown config key 'rollout.groupsize'", () -> TrainConfig.resolve("acpo", yaml, List.of()));
        Path badValue = dir.resolve("badvalue.yaml");
        Files.writeString(badValue, "optim:\n  beta2: 1.5\n");
        assertRefused("optim.beta2", () -> TrainConfig.resolve("acpo", badValue, List.of()));
    }

    @Test
    void presetFromCommandLineWinsOverTheFile() throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, "preset: dapo\n");
        assertEquals("grpo", TrainConfig.resolve("grpo", yaml, List.of()).preset());
    }

    @Test
    void writtenYamlReadsBackToTheSameConfig() throws Exception {
        TrainConfig c = TrainConfig.resolve("apo", null, List.of("rollout.group_size=6", "optim.lr=0.0123", "reuse.kind=cosine"));
        Path out = dir.resolve("config.yaml");
        c.writeYaml(out);
        String text = Files.readString(out);
        assertTrue(text.contains("rollout:"), text);
        assertEquals(c, TrainConfig.load(out));
    }

    @Test
    void withAppliesOverrides() {
        TrainConfig c = TrainConfig.ofPreset("ppo").with("steps=3", "loss.kl=k2");
        assertEquals(3, c.steps());
        assertTrue(c.klOn());
        assertFalse(TrainConfig.ofPreset("ppo").klOn());
    }
}
