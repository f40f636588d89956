package io.vlmrl.rl;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Split;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.Rewards;
import io.vlmrl.run.RunConfig;
import io.vlmrl.store.RunDirectory;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A few RL steps per preset on a tiny model. The model is freshly initialised (no warm start),
 * so almost every reward is 0: the tests open the gate (tau = -1, n_max = G) and add a small
 * entropy bonus so that every update has a gradient even when all advantages are 0.
 */
class RlTrainerTest {

    static final WordTokenizer TOKENIZER = WordTokenizer.fromWords(BuiltinTask.vocabulary());

    @TempDir
    Path dir;

    static RunConfig tiny(String preset, String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "model.image_size=32", "model.patch_size=8", "model.vision_width=32", "model.vision_layers=1",
                "model.hidden_size=32", "model.layers=1", "model.heads=2", "model.intermediate_size=64",
                "task.image_size=32",
                "rollout.prompts_per_step=4", "rollout.group_size=4", "rollout.max_response_length=6",
                "reward.overlong_max_length=6", "reward.overlong_cache=2",
                "optim.mini_batch_size=16", "optim.micro_batch_size=8", "optim.lr=0.01",
                "loss.entropy_coef=0.05", "curriculum.tau=-1", "curriculum.n_max=4",
                "reuse.k_max=2", "reuse.t_ramp=0", "steps=3", "checkpoint.every=0", "kernels.backend=eager"));
        sets.addAll(List.of(extra));
        return RunConfig.resolve(preset, null, sets);
    }

    static BuiltinPolicy tinyPolicy(RunConfig c) {
        return BuiltinPolicy.create(c.model(), TOKENIZER, c.seed());
    }

    /** A trainer over the built-in task, with the KL reference (when on) a frozen copy of {@code policy}. */
    static RlTrainer trainer(RunConfig c, Path dir, Policy policy) throws java.io.IOException {
        Policy reference = c.loss().klEnabled() ? policy.frozenCopy() : null;
        Dataset train = new BuiltinTask(c.task()).dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL);
        return new RlTrainer(c.rl(), RunDirectory.at(dir), policy, reference, train, Rewards.create(c.reward(), true))
                .showProgress(false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ppo", "grpo", "dapo", "acpo", "apo"})
    void everyPresetLogsEveryMetricFinite(String preset) throws Exception {
        RunConfig c = tiny(preset);
        Path run = dir.resolve(preset);
        try (RlTrainer trainer = trainer(c, run, tinyPolicy(c))) {
            trainer.run();
        }
        List<Map<String, Object>> records = MetricsLogger.read(run.resolve("metrics.jsonl"));
        assertEquals(3, records.size());
        for (Map<String, Object> r : records) {
            for (String name : MetricNames.ALL) {
                assertTrue(r.containsKey(name), preset + " lacks " + name);
                double v = ((Number) r.get(name)).doubleValue();
                assertTrue(Double.isFinite(v), preset + " " + name + " = " + v);
            }
        }
        assertTrue(Files.isRegularFile(run.resolve("checkpoints").resolve("step-000003").resolve("state.json")),
                "the last step is checkpointed");
    }

    @Test
    void ratioIsExactlyOneOnTheFirstPassAndMovesOnTheSecond() throws Exception {
        RunConfig c = tiny("acpo", "steps=2");
        try (RlTrainer trainer = trainer(c, dir.resolve("ratio"), tinyPolicy(c))) {
            for (int s = 0; s < 2; s++) {
                RlTrainer.StepReport r = trainer.step();
                assertEquals(2, r.passMeanRatio().size(), "K = 2 passes");
                assertEquals(1.0, r.passMeanRatio().get(0), 0.0, "first pass: ratio exactly 1 (one mini-batch)");
                assertNotEquals(1.0, r.passMeanRatio().get(1), "second pass: the update moved the ratio");
            }
        }
    }

    @Test
    void nativeMemoryStaysFlatOverManySteps() throws Exception {
        RunConfig c = tiny("acpo", "steps=1000");
        try (RlTrainer trainer = trainer(c, dir.resolve("memory"), tinyPolicy(c))) {
            for (int s = 0; s < 2; s++) trainer.step(); // warm-up: allocator pools, JIT, optimizer state
            System.gc();
            long warm = Pointer.physicalBytes();
            for (int s = 0; s < 8; s++) trainer.step();
            System.gc();
            long grown = Pointer.physicalBytes() - warm;
            // A leak of one step's activations and logits would add several MB per step.
            assertTrue(grown < 64L << 20, "resident memory grew by " + (grown >> 20) + " MiB over 8 steps");
        }
    }

    @Test
    void resumedRunReproducesAnUninterruptedOne() throws Exception {
        RunConfig c = tiny("apo", "steps=4", "checkpoint.every=2");
        Path straight = dir.resolve("straight");
        try (RlTrainer trainer = trainer(c, straight, tinyPolicy(c))) {
            trainer.run();
        }
        Path split = dir.resolve("split");
        try (RlTrainer first = trainer(c, split, tinyPolicy(c))) {
            first.step();
            first.step();
            first.step(); // not checkpointed: lost in the "crash", redone after the resume
        }
        try (RlTrainer resumed = trainer(c, split, tinyPolicy(c))) {
            assertEquals(2, resumed.nextStep());
            resumed.run();
        }
        List<Map<String, Object>> a = MetricsLogger.read(straight.resolve("metrics.jsonl"));
        List<Map<String, Object>> b = MetricsLogger.read(split.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            for (String name : MetricNames.ALL) {
                if (MetricNames.TIMING.contains(name)) continue;
                assertEquals(a.get(i).get(name), b.get(i).get(name), "step " + i + " " + name);
            }
        }
    }
}
