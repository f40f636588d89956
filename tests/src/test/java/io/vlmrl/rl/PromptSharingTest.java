package io.vlmrl.rl;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Split;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.run.RunConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code model.share_prompt_compute}: one prefill per group in rollout and one prompt pass (image
 * and tokens) per distinct prompt in training give what repeating both per response gives.
 */
class PromptSharingTest {
    private static final int GROUP = 4;

    private static List<EncodedPrompt> prompts(BuiltinPolicy policy, RunConfig c) {
        Dataset train = new BuiltinTask(c.task()).dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL);
        List<EncodedPrompt> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) out.add(policy.encodePrompt(train.get(i)));
        return out;
    }

    @Test
    void aGroupSampledFromOnePrefillHasTheTokensAndLogProbsOfRepeatedPrompts() {
        RunConfig c = RlTrainerTest.tiny("grpo");
        assertTrue(c.model().sharePromptCompute(), "on by default");
        try (BuiltinPolicy shared = RlTrainerTest.tinyPolicy(c);
             BuiltinPolicy repeated = RlTrainerTest.tinyPolicy(c.with("model.share_prompt_compute=false"))) {
            SamplingConfig sampling = SamplingConfig.sample(6, 0).withTemperature(1.5);
            long[] seeds = {11, 12, 13};
            GeneratedResponses a = shared.generate(prompts(shared, c), GROUP, sampling, seeds);
            GeneratedResponses b = repeated.generate(prompts(repeated, c), GROUP, sampling, seeds);
            assertEquals(3 * GROUP, a.size());
            int distinct = 0;
            for (int r = 0; r < a.size(); r++) {
                assertArrayEquals(b.tokens()[r], a.tokens()[r], "row " + r + " tokens");
                assertArrayEquals(b.logProbs()[r], a.logProbs()[r], 1e-5f, "row " + r + " behaviour log-probs");
                if (r % GROUP > 0 && !java.util.Arrays.equals(a.tokens()[r], a.tokens()[r - 1])) distinct++;
            }
            assertTrue(distinct > 0, "the samples of a group differ (each row has its own stream)");
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "rows grouped by prompt: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void onePromptPassPerPromptGivesThePerResponseLogitsAndGradients(boolean grouped) {
        RunConfig c = RlTrainerTest.tiny("grpo");
        try (BuiltinPolicy shared = RlTrainerTest.tinyPolicy(c);
             BuiltinPolicy repeated = RlTrainerTest.tinyPolicy(c.with("model.share_prompt_compute=false"));
             PointerScope scope = new PointerScope()) {
            List<Map<String, Tensor>> grads = new ArrayList<>();
            List<Tensor> logitsOf = new ArrayList<>();
            Tensor ids = torch.randint(0, RlTrainerTest.TOKENIZER.vocabSize(), new long[] {3 * GROUP, 5});
            Tensor weights = torch.randn(3 * GROUP, 5, RlTrainerTest.TOKENIZER.vocabSize());
            for (BuiltinPolicy policy : List.of(shared, repeated)) {
                List<EncodedPrompt> distinct = prompts(policy, c);
                List<EncodedPrompt> rows = new ArrayList<>();
                for (EncodedPrompt p : distinct) rows.addAll(Collections.nCopies(GROUP, p)); // a group's rows share one prompt object
                if (!grouped) {
                    // a shuffled micro-batch: rows of different prompts interleaved
                    for (int r = 0; r < rows.size(); r++) rows.set(r, distinct.get((r * 7 + r / 5) % distinct.size()));
                }
                Tensor logits = policy.responseLogits(rows, ids);
                logits.mul(weights).sum().backward();
                grads.add(policy.trainableParameters());
                logitsOf.add(logits.detach());
            }
            double logitDiff = logitsOf.get(0).sub(logitsOf.get(1)).abs().max().item_double();
            assertTrue(logitDiff <= 1e-5 * Math.max(1, logitsOf.get(1).abs().max().item_double()),
                    "logits differ by " + logitDiff);
            int checked = 0;
            for (Map.Entry<String, Tensor> e : grads.get(0).entrySet()) {
                Tensor a = e.getValue().grad(), b = grads.get(1).get(e.getKey()).grad();
                double scale = b.abs().max().item_double();
                double diff = a.sub(b).abs().max().item_double();
                assertTrue(diff <= 1e-5 * Math.max(1, scale), e.getKey() + ": max |shared - repeated| = " + diff + " (scale " + scale + ")");
                if (e.getKey().startsWith("visual.") && scale > 0) checked++;
            }
            assertTrue(checked > 0, "the vision tower gets gradients, so the comparison covers the shared pass");
        }
    }
}
