package io.vlmrl.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.Split;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.config.Schema;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.optim.LearningRates;
import io.vlmrl.policy.EncodedPrompt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftTrainerTest {
    private static final BuiltinTask TASK = new BuiltinTask(TaskConfig.defaults());
    private static final SftConfig QUICK = Schema.with(SftConfig.defaults(),
            "steps=25", "batch_size=16", "lr=5e-3", "weight_decay=0", "warmup_steps=2", "grad_clip=1.0");
    private static final long SEED = 3L;

    @BeforeAll
    static void fewThreads() {
        org.bytedeco.pytorch.global.torch.set_num_threads(1);
    }

    @Test
    void shortRunLowersTheLossOnAFixedBatch() {
        BuiltinPolicy policy = TinyModels.policy(1);
        SftTrainer trainer = quick(policy, QUICK);
        List<Problem> probe = problems(Split.HELD_OUT, 24);
        double before = trainer.loss(probe);
        SftResult result = trainer.train(TASK.dataset(Split.TRAIN, 100_000));
        double after = trainer.loss(probe);
        assertEquals(QUICK.steps(), result.losses().size());
        assertTrue(after < 0.7 * before, "held-out loss should drop well below " + before + ", got " + after);
        assertTrue(result.finalLoss() < result.initialLoss(), result.losses().toString());
        // An untrained model is close to uniform over the vocabulary.
        assertEquals(Math.log(policy.tokenizer().vocabSize()), before, 0.5);
    }

    @Test
    void lossIsTheMeanCrossEntropyOfResponseTokensOnly() {
        BuiltinPolicy policy = TinyModels.policy(2);
        WordTokenizer tokenizer = policy.tokenizer();
        SftTrainer trainer = quick(policy, QUICK);
        List<Problem> batch = problems(Split.TRAIN, 5); // responses of different lengths, so some padding
        double expected;
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            List<EncodedPrompt> prompts = batch.stream().map(policy::encodePrompt).toList();
            ResponseTargets targets = ResponseTargets.of(batch.stream().map(p -> policy.encodeResponse(p.targetResponse())).toList(),
                    tokenizer.padId());
            Tensor logits = policy.responseLogits(prompts, targets.ids()).contiguous();
            expected = referenceCrossEntropy(logits, batch, tokenizer);
        }
        assertEquals(expected, trainer.loss(batch), 1e-5);
    }

    @Test
    void sameSeedGivesTheSameRunAndASavedPolicyRestoresTheWeights(@TempDir Path dir) throws Exception {
        SftConfig config = QUICK.withSteps(4);
        Dataset data = TASK.dataset(Split.TRAIN, 100_000);
        BuiltinPolicy first = TinyModels.policy(5);
        SftResult a = quick(first, config).train(data);
        first.save(dir.resolve("ckpt"));
        BuiltinPolicy second = TinyModels.policy(5);
        SftResult b = quick(second, config).train(data);
        assertEquals(a.losses(), b.losses());
        BuiltinPolicy loaded = BuiltinPolicy.load(dir.resolve("ckpt"), false);
        List<Problem> probe = problems(Split.HELD_OUT, 6);
        assertEquals(quick(first, config).loss(probe), quick(loaded, config).loss(probe), 1e-6);
    }

    @Test
    void resultIsWrittenAsJson(@TempDir Path dir) throws Exception {
        SftResult result = new SftResult("d", QUICK, SEED, List.of(3.0, 2.0, 1.0), 1.5);
        Path file = dir.resolve("sub/sft.json");
        result.writeJson(file);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
        assertEquals(3, json.get("losses").size());
        assertEquals(3.0, json.get("initialLoss").asDouble());
        assertEquals(2.0, json.get("finalLoss").asDouble());
        assertEquals(25, json.get("config").get("steps").asInt());
    }

    @Test
    void learningRateWarmsUpThenDecaysAlongACosine() {
        double f = 0.1;
        assertEquals(1.0 / 3, LearningRates.warmupCosine(1.0, 0, 2, 11, f), 1e-12);
        assertEquals(2.0 / 3, LearningRates.warmupCosine(1.0, 1, 2, 11, f), 1e-12);
        assertEquals(1.0, LearningRates.warmupCosine(1.0, 2, 2, 11, f), 1e-12);
        // Halfway through the decay the cosine is at its midpoint.
        assertEquals(f + (1 - f) * 0.5, LearningRates.warmupCosine(1.0, 6, 2, 11, f), 1e-12);
        assertEquals(f, LearningRates.warmupCosine(1.0, 10, 2, 11, f), 1e-12);
    }

    @Test
    void leavesNoGradientsOnTheModel() {
        // Regression: the last step's gradients used to stay on the parameters, so the RL
        // optimizer that follows a warm start added them to its first update.
        BuiltinPolicy policy = TinyModels.policy(4);
        quick(policy, QUICK.withSteps(2)).train(TASK.dataset(Split.TRAIN, 100));
        policy.model().namedParameters().forEach((name, p) -> assertTrue(!p.grad().defined(),
                name + " still holds a gradient after SFT"));
    }

    @Test
    void rejectsBadSettingsAndEmptyData() {
        assertThrows(IllegalArgumentException.class, () -> QUICK.withSteps(-1));
        assertThrows(IllegalArgumentException.class, () -> QUICK.withBatchSize(0));
        assertThrows(IllegalArgumentException.class, () -> QUICK.withLr(0));
        var e = assertThrows(IllegalArgumentException.class, () -> QUICK.withLr(Double.NaN));
        assertTrue(e.getMessage().contains("lr") && e.getMessage().contains("NaN"), e.getMessage());
        SftConfig unchecked = new SftConfig(3, 0, 1e-3, 0, 0, 0.1, 1.0); // built directly, bypassing the parser
        assertThrows(IllegalArgumentException.class, () -> new SftTrainer(TinyModels.policy(0), unchecked, SEED));
        SftTrainer trainer = quick(TinyModels.policy(0), QUICK);
        assertThrows(IllegalArgumentException.class, () -> trainer.train(TASK.dataset(Split.TRAIN, 0)));
    }

    @Test
    void imagesOfAnotherSizeAreResizedToTheModelsInput() {
        BuiltinPolicy policy = TinyModels.policy(0);
        BuiltinTask bigger = new BuiltinTask(TaskConfig.defaults().withImageSize(64));
        SftResult r = quick(policy, QUICK.withSteps(2)).train(bigger.dataset(Split.TRAIN, 10));
        assertEquals(2, r.losses().size());
    }

    private static SftTrainer quick(BuiltinPolicy policy, SftConfig config) {
        return new SftTrainer(policy, config, SEED).showProgress(false);
    }

    /** Double-precision log-softmax over each response position, averaged over real response tokens. */
    private static double referenceCrossEntropy(Tensor logits, List<Problem> batch, WordTokenizer tokenizer) {
        int t = (int) logits.size(1);
        int v = (int) logits.size(2);
        float[] values = new float[(int) logits.numel()];
        logits.data_ptr_float().get(values);
        double sum = 0;
        int count = 0;
        for (int b = 0; b < batch.size(); b++) {
            int[] words = tokenizer.encode(batch.get(b).targetResponse());
            List<Integer> target = new ArrayList<>();
            for (int w : words) {
                target.add(w);
            }
            target.add(tokenizer.eosId());
            for (int j = 0; j < target.size(); j++) {
                int offset = (b * t + j) * v;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < v; k++) {
                    max = Math.max(max, values[offset + k]);
                }
                double z = 0;
                for (int k = 0; k < v; k++) {
                    z += Math.exp(values[offset + k] - max);
                }
                sum += -(values[offset + target.get(j)] - max - Math.log(z));
                count++;
            }
        }
        return sum / count;
    }

    private static List<Problem> problems(Split split, int n) {
        List<Problem> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(TASK.problem(split, i));
        }
        return out;
    }
}
