package io.vlmrl.run;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.JsonlDataset;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.data.TaskExport;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.MathAnswers;
import io.vlmrl.reward.Reward;
import io.vlmrl.reward.RewardFunction;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.rl.RlTrainer;
import io.vlmrl.store.PolicyDirectory;
import io.vlmrl.store.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's Java example, as written there (with a small model saved first, and a small budget). */
class EmbeddingExampleTest {

    @TempDir
    Path work;

    @Test
    void theReadmesJavaExampleRuns() throws Exception {
        TaskExport.write(new BuiltinTask(TaskConfig.defaults()), work.resolve("data"), 20, 4);
        RunConfig small = RunConfig.ofPreset("acpo").with("model.hidden_size=32", "model.layers=1", "model.heads=2",
                "model.intermediate_size=48", "model.vision_width=16", "model.vision_layers=1");
        JsonlDataset data = JsonlDataset.load(work.resolve("data/train.jsonl"));
        BuiltinPolicy.create(small.model(), WordTokenizer.fromTexts(
                java.util.List.of(data.get(0).question(), "answer yes no 0 1 2 3 4 5 6 7 8 9"), java.util.List.of()), 1)
                .save(work.resolve("models/mine"));

        // ---- as in the README ----
        RunConfig config = RunConfig.ofPreset("acpo").with("steps=2", "rollout.group_size=4", "rollout.prompts_per_step=2",
                "optim.mini_batch_size=8", "optim.micro_batch_size=8");
        Dataset train = JsonlDataset.load(work.resolve("data/train.jsonl"), config.data());
        RewardFunction reward = (problem, response) -> {                       // your own reward
            boolean right = MathAnswers.extract(response)
                    .map(a -> MathAnswers.equivalent(a, problem.answer(), 1e-4)).orElse(false);
            return Reward.of(right ? 1 : 0, right);
        };
        try (Policy policy = Policies.load(work.resolve("models/mine"), false);
             RlTrainer trainer = new RlTrainer(config.rl(), RunDirectory.at(work.resolve("runs/mine")),
                     policy, null /* KL reference: off in acpo */, train, reward)) {
            trainer.run();                                                      // checkpoints in runs/mine
            PolicyDirectory.save(policy, work.resolve("runs/mine/final"));
        }
        // ----
        assertEquals(2, MetricsLogger.read(RunDirectory.at(work.resolve("runs/mine")).metrics()).size());
        assertTrue(Files.isRegularFile(work.resolve("runs/mine/final/manifest.json")));
    }
}
