package io.vlmrl.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.ResponseFormat;
import io.vlmrl.config.Schema;
import io.vlmrl.data.Split;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.reward.BuiltinSceneReward;
import io.vlmrl.reward.RewardConfig;
import io.vlmrl.sft.SftConfig;
import io.vlmrl.sft.SftTrainer;
import io.vlmrl.sft.TinyModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluatorTest {
    private static final BuiltinTask TASK = new BuiltinTask(TaskConfig.defaults());
    private static BuiltinPolicy policy;

    /** A briefly trained model, so that responses contain answers and the scoring is exercised. */
    @BeforeAll
    static void trainBriefly() {
        org.bytedeco.pytorch.global.torch.set_num_threads(1);
        policy = TinyModels.policy(11);
        SftConfig quick = Schema.with(SftConfig.defaults(), "steps=60", "batch_size=16", "lr=2e-2", "weight_decay=0",
                "warmup_steps=2", "grad_clip=1.0");
        new SftTrainer(policy, quick, 0L).showProgress(false).train(TASK.dataset(Split.TRAIN, 100_000));
    }

    @Test
    void jsonHasTheSummaryPerTypeAccuracyAndExamples(@TempDir Path dir) throws Exception {
        EvalResult result = evaluator(EvalConfig.defaults().withSize(24).withBatchSize(8)).evaluate(heldOut(24));
        Path file = dir.resolve("eval.json");
        result.writeJson(file);
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        for (String field : List.of("dataset", "problems", "correct", "accuracy", "formatRate", "meanReward",
                "meanResponseTokens", "byType", "examples", "seconds")) {
            assertTrue(json.has(field), "missing field " + field + " in " + json);
        }
        assertEquals(24, json.get("problems").asInt());
        assertEquals("builtin-held_out", json.get("dataset").asText());
        int typed = 0;
        for (JsonNode type : json.get("byType")) {
            assertTrue(type.has("problems") && type.has("correct") && type.has("accuracy"));
            typed += type.get("problems").asInt();
        }
        assertEquals(24, typed);
        assertEquals(10, json.get("examples").size());
        assertEquals(result, EvalResult.readJson(file));
    }

    @Test
    void countsAgreeWithRescoringTheReportedResponses() {
        int n = 30;
        EvalResult result = evaluator(Schema.with(EvalConfig.defaults(), "size=" + n, "batch_size=16",
                "max_new_tokens=" + (ResponseFormat.MAX_WORDS + 1), "examples=" + n)).evaluate(heldOut(n));
        BuiltinSceneReward reward = new BuiltinSceneReward(RewardConfig.defaults());
        int correct = 0;
        int wellFormed = 0;
        for (int i = 0; i < n; i++) {
            EvalResult.Example example = result.examples().get(i);
            Problem problem = TASK.problem(Split.HELD_OUT, i);
            assertEquals(problem.question(), example.question());
            boolean right = reward.score(problem, example.response()).correct();
            assertEquals(right, example.correct());
            correct += right ? 1 : 0;
            wellFormed += ResponseFormat.parse(example.response()).wellFormed() ? 1 : 0;
        }
        assertEquals(correct, result.correct());
        assertEquals((double) correct / n, result.accuracy(), 1e-12);
        assertEquals((double) wellFormed / n, result.formatRate(), 1e-12);
        assertTrue(wellFormed > 0, "the briefly trained model should produce some well-formed responses");
    }

    @Test
    void isDeterministicAndIndependentOfTheBatchSize() {
        Dataset data = heldOut(20);
        EvalConfig all = Schema.with(EvalConfig.defaults(), "size=20", "batch_size=20", "examples=20");
        EvalResult a = evaluator(all).evaluate(data);
        EvalResult b = evaluator(all).evaluate(data);
        EvalResult c = evaluator(all.withBatchSize(3)).evaluate(data);
        assertEquals(a.examples(), b.examples());
        assertEquals(a.correct(), b.correct());
        assertEquals(a.byType(), b.byType());
        // Left-padding different prompt lengths together must not change any greedy response.
        assertEquals(a.examples(), c.examples());
    }

    @Test
    void evaluatesAtMostTheDatasetSizeAndRejectsBadOptions() {
        EvalResult result = evaluator(EvalConfig.defaults()).evaluate(heldOut(5));
        assertEquals(5, result.problems());
        assertThrows(IllegalArgumentException.class, () -> EvalConfig.defaults().withSize(0));
        assertThrows(IllegalArgumentException.class, () -> EvalConfig.defaults().withBatchSize(0));
        assertThrows(IllegalArgumentException.class, () -> EvalConfig.defaults().withMaxNewTokens(0));
        assertThrows(IllegalArgumentException.class, () -> evaluator(EvalConfig.defaults()).evaluate(heldOut(0)));
    }

    private static Evaluator evaluator(EvalConfig config) {
        return new Evaluator(policy, new BuiltinSceneReward(RewardConfig.defaults()), config);
    }

    private static Dataset heldOut(int n) {
        return TASK.dataset(Split.HELD_OUT, n);
    }
}
