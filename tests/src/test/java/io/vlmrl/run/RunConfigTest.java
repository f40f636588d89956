package io.vlmrl.run;

import io.vlmrl.config.Schema;
import io.vlmrl.config.Setting;
import io.vlmrl.loss.KlEstimator;
import io.vlmrl.loss.LossConfig;
import io.vlmrl.loss.PolicyLossConfig;
import io.vlmrl.loss.PolicyLossRegistry;
import io.vlmrl.model.VlmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunConfigTest {

    @TempDir
    Path dir;

    private static void assertRefused(String expectedFragment, Runnable action) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
        assertTrue(e.getMessage().contains(expectedFragment), "message '" + e.getMessage() + "' lacks '" + expectedFragment + "'");
    }

    private static RunConfig set(String preset, String... overrides) {
        return RunConfig.resolve(preset, null, List.of(overrides));
    }

    @Test
    void learningRateWarmsUpLinearlyThenStaysConstant() {
        RunConfig c = set("acpo", "optim.lr=1e-5", "optim.warmup_steps=4");
        assertEquals(0.2e-5, c.rl().lrAt(0), 1e-18);
        assertEquals(0.8e-5, c.rl().lrAt(3), 1e-18);
        assertEquals(1e-5, c.rl().lrAt(4), 1e-18);
        assertEquals(1e-5, c.rl().lrAt(1000), 1e-18);
        assertEquals(1e-5, set("acpo", "optim.lr=1e-5", "optim.warmup_steps=0").rl().lrAt(0), 1e-18);
    }

    @Test
    void eachDefaultIsWrittenOnceAndTheLibraryClassesUseIt() {
        VlmConfig model = VlmConfig.builder().build();
        RunConfig c = RunConfig.ofPreset("ppo");
        assertEquals(c.model().patchSize(), model.patchSize());
        assertEquals(c.model().mergeSize(), model.mergeSize());
        assertEquals(c.model().intermediateSize(), model.intermediateSize());
        assertEquals(c.model().hiddenSize(), model.hiddenSize());
        PolicyLossConfig kernel = PolicyLossConfig.builder().build();
        assertEquals(c.loss().epsLow(), kernel.epsLow());
        assertEquals(c.loss().aaacEpsMax(), kernel.aaacEpsMax());
        assertEquals(c.loss().k3Clamp(), kernel.k3Clamp());
    }

    @Test
    void everyKeyHasHelpAValidDefaultAndOneName() {
        Map<String, Setting> settings = RunConfig.schema().settings();
        assertTrue(settings.size() > 80, "keys: " + settings.size());
        for (Setting s : settings.values()) {
            assertFalse(s.help().isBlank(), s.key() + " has no help");
            assertEquals(s.defaultValue(), s.coerce(s.toPlain(s.defaultValue())), s.key() + " default does not round-trip");
            assertTrue(s.key().matches("[a-z0-9_]+(\\.[a-z0-9_]+)?"), s.key());
        }
    }

    @Test
    void unknownKeyIsRefusedByNameWithSuggestions() {
        assertRefused("unknown config key 'optim.learning_rate'", () -> set("acpo", "optim.learning_rate=0.1"));
        assertRefused("did you mean rollout.group_size", () -> set("acpo", "rollout.groupsize=4"));
    }

    @Test
    void outOfRangeValueNamesKeyValueAndRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> set("acpo", "rollout.group_size=0"));
        assertTrue(e.getMessage().contains("rollout.group_size"), e.getMessage());
        assertTrue(e.getMessage().contains("'0'"), e.getMessage());
        assertTrue(e.getMessage().contains("[1, 1024]"), e.getMessage());
        assertRefused("loss.eps_low", () -> set("ppo", "loss.eps_low=1"));
        assertRefused("loss.eps_low", () -> set("ppo", "loss.eps_low=1.5"));
        assertRefused("one of aaac, clip-higher, ppo", () -> set("ppo", "loss.mode=wide"));
        assertRefused("true or false", () -> set("ppo", "loss.dads=yes"));
        assertRefused("optim.lr", () -> set("ppo", "optim.lr=NaN"));
        assertRefused("steps", () -> set("ppo", "steps=2.5"));
        assertRefused("--set: expected key=value", () -> set("ppo", "steps"));
        assertRefused("preset", () -> set("trpo"));
        assertRefused("task.teacher_miss_rate", () -> set("acpo", "task.teacher_miss_rate=1"));
        assertEquals(0.99, set("acpo", "task.teacher_miss_rate=0.99").task().teacherMissRate());
    }

    @Test
    void crossKeyRulesAreCheckedWhenResolving() {
        assertRefused("curriculum.n_max", () -> set("acpo", "rollout.group_size=4", "curriculum.n_max=5"));
        assertRefused("optim.micro_batch_size", () -> set("acpo", "optim.mini_batch_size=8", "optim.micro_batch_size=16"));
        assertRefused("loss.aaac_eps_max", () -> set("acpo", "loss.aaac_eps_min=0.3", "loss.aaac_eps_max=0.25"));
        assertRefused("hiddenSize", () -> set("acpo", "model.hidden_size=30", "model.heads=4"));
        assertRefused("task.max_difficulty", () -> set("acpo", "task.min_difficulty=3", "task.max_difficulty=2"));
        // One response per prompt: every group-relative advantage is 0, so RL would train nothing.
        for (String preset : List.of("grpo", "acpo", "dapo", "ppo", "apo")) {
            assertRefused("rollout.group_size", () -> set(preset, "rollout.group_size=1"));
        }
        assertRefused("loss.dads", () -> set("ppo", "loss.dads=true"));
        assertRefused("reward.overlong_cache", () -> set("dapo", "reward.overlong_max_length=4", "reward.overlong_cache=5"));
        assertRefused("reward.reasoning_weight", () -> set("acpo", "reward.format_weight=0.5", "reward.reasoning_weight=0.5"));
        assertRefused("reward.class", () -> set("acpo", "reward.name=math", "reward.class=com.acme.R"));
        assertRefused("model.hidden_size", () -> set("acpo", "model.path=/models/x", "model.hidden_size=64"));
        assertRefused("task.seed", () -> set("acpo", "data.train=a.jsonl", "data.eval=b.jsonl", "task.seed=3"));
    }

    @Test
    void registeredNamesAreSelectableAndVerlsKlNamesAreAccepted() {
        assertEquals(KlEstimator.K3, set("ppo", "loss.kl=low_var_kl").loss().kl());
        assertEquals(KlEstimator.K2, set("ppo", "loss.kl=mse").loss().kl());
        assertEquals(KlEstimator.K1, set("ppo", "loss.kl=kl").loss().kl());
        assertRefused("loss.mode", () -> set("ppo", "loss.mode=my-loss"));
        PolicyLossRegistry.register("ppo-test-alias-" + System.nanoTime(), PolicyLossRegistry.get("ppo"));
        String name = PolicyLossRegistry.names().stream().filter(n -> n.startsWith("ppo-test-alias-")).findFirst().orElseThrow();
        assertEquals(name, set("ppo", "loss.mode=" + name).loss().mode());
        io.vlmrl.algo.Advantages.register("mean-test-" + System.nanoTime(), r -> new double[r.length]);
        String adv = io.vlmrl.algo.Advantages.names().stream().filter(n -> n.startsWith("mean-test-")).findFirst().orElseThrow();
        assertEquals(adv, set("ppo", "loss.advantage=" + adv, "rollout.group_size=1").loss().advantage(),
                "a custom estimator may train with one response per prompt");
    }

    @Test
    void differencesNameTheKeysThatDiffer() {
        RunConfig a = RunConfig.ofPreset("acpo");
        RunConfig b = a.with("optim.lr=0.001", "sft.steps=7");
        assertEquals(List.of("optim.lr: 1.0E-5 -> 0.001", "sft.steps: 1000 -> 7"), a.differences(b, key -> true));
        assertEquals(List.of("sft.steps: 1000 -> 7"), a.differences(b, key -> key.startsWith("sft.")));
        assertEquals(List.of(), a.differences(a, key -> true));
    }

    @Test
    void yamlFileNestedOrDottedThenSetOverrides() throws Exception {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, "preset: dapo\nrollout:\n  group_size: 4\n  temperature: 0.7\noptim.lr: 0.01\nsteps: 5\n");
        RunConfig c = RunConfig.resolve(null, yaml, List.of("steps=9"));
        assertEquals("dapo", c.preset());
        assertEquals("clip-higher", c.loss().mode());
        assertEquals(4, c.rollout().groupSize());
        assertEquals(0.7, c.rollout().temperature());
        assertEquals(0.01, c.optim().lr());
        assertEquals(9, c.steps(), "--set wins over the file");
        assertEquals(3, c.curriculum().nMaxFor(c.rollout().groupSize()), "N_max defaults to G - 1");
    }

    @Test
    void yamlErrorsNameTheFileAndKey() throws Exception {
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "rollout:\n  groupsize: 4\n");
        assertRefused("unknown config key 'rollout.groupsize'", () -> RunConfig.resolve("acpo", yaml, List.of()));
        Path badValue = dir.resolve("badvalue.yaml");
        Files.writeString(badValue, "optim:\n  beta2: 1.5\n");
        assertRefused("optim.beta2", () -> RunConfig.resolve("acpo", badValue, List.of()));
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "rollout:\n  group_size: [4\n");
        assertRefused("broken.yaml", () -> RunConfig.resolve("acpo", broken, List.of()));
        assertRefused("no such file", () -> RunConfig.resolve("acpo", dir.resolve("absent.yaml"), List.of()));
    }

    @Test
    void writtenYamlRecordsThePresetAndOnlyItsChangesAndReadsBack() throws Exception {
        RunConfig c = set("apo", "rollout.group_size=6", "optim.lr=0.0123", "reuse.kind=cosine", "loss.kl=low_var_kl");
        Path out = dir.resolve("config.yaml");
        c.writeYaml(out);
        String text = Files.readString(out);
        assertTrue(text.startsWith("# vlmrl run configuration: preset 'apo'"), text);
        assertTrue(text.contains("rollout:\n  group_size: 6"), text);
        assertFalse(text.contains("dads"), "the preset's own values are not repeated: " + text);
        assertFalse(text.contains("kl:"), "k3 is apo's own KL, so no change: " + text);
        assertEquals(c, RunConfig.load(out));
        assertEquals(Map.of("rollout.group_size", 6, "optim.lr", 0.0123, "reuse.kind", io.vlmrl.rl.ReuseSchedule.Kind.COSINE),
                c.changes());
    }

    @Test
    void aRunsConfigWithAnotherPresetTrainsThatPresetPlusTheRunsChanges() throws Exception {
        // The bug this rule fixes: "train --preset acpo --config <a grpo run>/config.yaml" trained GRPO
        // labelled acpo, and "compare --config" ran one algorithm under three labels.
        RunConfig grpoRun = set("grpo", "optim.lr=2e-5", "rollout.group_size=4");
        Path file = dir.resolve("config.yaml");
        grpoRun.writeYaml(file);
        RunConfig acpo = RunConfig.resolve("acpo", file, List.of());
        assertEquals("acpo", acpo.preset());
        assertEquals("aaac", acpo.loss().mode());
        assertEquals(KlEstimator.NONE, acpo.loss().kl(), "grpo's KL came from its preset, not from the file");
        assertTrue(acpo.curriculum().gate());
        assertEquals(2e-5, acpo.optim().lr(), "the run's own changes carry over");
        assertEquals(4, acpo.rollout().groupSize());
        assertEquals(RunConfig.ofPreset("acpo").loss(), acpo.loss());
        assertEquals(acpo, grpoRun.with("preset=acpo"));
        for (String preset : Presets.names()) {
            RunConfig c = RunConfig.resolve(preset, file, List.of());
            assertEquals(RunConfig.ofPreset(preset).loss(), c.loss(), preset + " trains its own loss");
            assertEquals(RunConfig.ofPreset(preset).curriculum(), c.curriculum(), preset + " keeps its own curriculum");
        }
    }

    @Test
    void withAppliesOverrides() {
        RunConfig c = RunConfig.ofPreset("ppo").with("steps=3", "loss.kl=k2");
        assertEquals(3, c.steps());
        assertTrue(c.loss().klEnabled());
        assertFalse(RunConfig.ofPreset("ppo").loss().klEnabled());
    }

    @Test
    void sectionsBuiltDirectlyAreCheckedByTheStagesThatReadThem() {
        LossConfig bad = Schema.with(LossConfig.defaults(), "eps_low=0.1");
        assertEquals(0.1, bad.epsLow());
        LossConfig unchecked = new LossConfig("grpo", "ppo", 1.5, 0.2, bad.aaacNorm(), 0.2, 0.32, false, 3, KlEstimator.NONE, 0,
                bad.klAggregation(), bad.aggregation(), 0, false, Math.E, false, 1e-5, 20, 20, 10, bad.nonFinite(), 1.0);
        assertRefused("loss.eps_low", () -> Schema.check(unchecked));
    }
}
