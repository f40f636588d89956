package io.vlmrl.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.Split;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.train.PromptBatch;
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
    private static final SftOptions QUICK = new SftOptions(25, 16, 5e-3, 0.0, 2, 1.0, 3L, false);

    @BeforeAll
    static void fewThreads() {
        org.bytedeco.pytorch.global.torch.set_num_threads(1);
    }

    @Test
    void shortRunLowersTheLossOnAFixedBatch() {
        WordTokenizer tokenizer = TinyModels.tokenizer();
        VisionLanguageModel model = TinyModels.model(tokenizer, 1);
        SftTrainer trainer = new SftTrainer(model, tokenizer, QUICK);
        List<Problem> probe = problems(Split.HELD_OUT, 24);
        double before = trainer.loss(probe);
        SftResult result = trainer.train(TASK.dataset(Split.TRAIN, 100_000));
        double after = trainer.loss(probe);
        assertEquals(QUICK.steps(), result.losses().size());
        assertTrue(after < 0.7 * before, "held-out loss should drop well below " + before + ", got " + after);
        assertTrue(result.finalLoss() < result.initialLoss(), result.losses().toString());
        // An untrained model is close to uniform over the vocabulary.
        assertEquals(Math.log(tokenizer.vocabSize()), before, 0.5);
    }

    @Test
    void lossIsTheMeanCrossEntropyOfResponseTokensOnly() {
        WordTokenizer tokenizer = TinyModels.tokenizer();
        VisionLanguageModel model = TinyModels.model(tokenizer, 2);
        SftTrainer trainer = new SftTrainer(model, tokenizer, QUICK);
        List<Problem> batch = problems(Split.TRAIN, 5); // responses of different lengths, so some padding
        double expected;
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            PromptBatch prompts = PromptBatch.of(batch, 1, tokenizer);
            ResponseTargets targets = ResponseTargets.of(batch.stream().map(Problem::targetResponse).toList(), tokenizer);
            Tensor logits = model.responseLogits(prompts.pixels(), prompts.promptIds(), null, targets.ids()).contiguous();
            expected = referenceCrossEntropy(logits, batch, tokenizer);
        }
        assertEquals(expected, trainer.loss(batch), 1e-5);
    }

    @Test
    void sameSeedGivesTheSameRunAndCheckpointRestoresTheWeights(@TempDir Path dir) throws Exception {
        WordTokenizer tokenizer = TinyModels.tokenizer();
        SftOptions options = QUICK.withSteps(4);
        Dataset data = TASK.dataset(Split.TRAIN, 100_000);
        VisionLanguageModel first = TinyModels.model(tokenizer, 5);
        SftResult a = new SftTrainer(first, tokenizer, options).train(data, dir.resolve("ckpt"));
        VisionLanguageModel second = TinyModels.model(tokenizer, 5);
        SftResult b = new SftTrainer(second, tokenizer, options).train(data);
        assertEquals(a.losses(), b.losses());
        assertTrue(Files.exists(dir.resolve("ckpt").resolve(Checkpoint.WEIGHTS_FILE)));
        Checkpoint.Loaded loaded = Checkpoint.load(dir.resolve("ckpt"));
        List<Problem> probe = problems(Split.HELD_OUT, 6);
        assertEquals(new SftTrainer(first, tokenizer, options).loss(probe),
                new SftTrainer(loaded.model(), loaded.tokenizer(), options).loss(probe), 1e-6);
    }

    @Test
    void resultIsWrittenAsJson(@TempDir Path dir) throws Exception {
        SftResult result = new SftResult("d", QUICK, List.of(3.0, 2.0, 1.0), 1.5);
        Path file = dir.resolve("sub/sft.json");
        result.writeJson(file);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
        assertEquals(3, json.get("losses").size());
        assertEquals(3.0, json.get("initialLoss").asDouble());
        assertEquals(2.0, json.get("finalLoss").asDouble());
        assertEquals(25, json.get("options").get("steps").asInt());
    }

    @Test
    void learningRateWarmsUpThenDecaysAlongACosine() {
        SftOptions o = new SftOptions(11, 1, 1.0, 0, 2, 0, 0, false);
        assertEquals(1.0 / 3, o.lrAt(0), 1e-12);
        assertEquals(2.0 / 3, o.lrAt(1), 1e-12);
        assertEquals(1.0, o.lrAt(2), 1e-12);
        // Halfway through the decay the cosine is at its midpoint.
        assertEquals(SftOptions.FINAL_LR_FRACTION + (1 - SftOptions.FINAL_LR_FRACTION) * 0.5, o.lrAt(6), 1e-12);
        assertEquals(SftOptions.FINAL_LR_FRACTION, o.lrAt(10), 1e-12);
    }

    @Test
    void leavesNoGradientsOnTheModel() {
        // Regression: the last step's gradients used to stay on the parameters, so the RL
        // optimizer that follows a warm start added them to its first update.
        WordTokenizer tokenizer = TinyModels.tokenizer();
        VisionLanguageModel model = TinyModels.model(tokenizer, 4);
        new SftTrainer(model, tokenizer, QUICK.withSteps(2)).train(TASK.dataset(Split.TRAIN, 100));
        model.namedParameters().forEach((name, p) -> assertTrue(!p.grad().defined(),
                name + " still holds a gradient after SFT"));
    }

    @Test
    void rejectsBadOptionsAndMismatchedInputs() {
        assertThrows(IllegalArgumentException.class, () -> QUICK.withSteps(-1));
        assertThrows(IllegalArgumentException.class, () -> QUICK.withBatchSize(0));
        assertThrows(IllegalArgumentException.class, () -> QUICK.withLr(0));
        assertThrows(IllegalArgumentException.class, () -> QUICK.withLr(Double.NaN));
        WordTokenizer tokenizer = TinyModels.tokenizer();
        VisionLanguageModel model = TinyModels.model(tokenizer, 0);
        WordTokenizer bigger = WordTokenizer.fromWords(List.of("extra", "words"));
        assertThrows(IllegalArgumentException.class, () -> new SftTrainer(model, bigger, QUICK));
        SftTrainer trainer = new SftTrainer(model, tokenizer, QUICK);
        BuiltinTask wrongSize = new BuiltinTask(TaskConfig.defaults().withImageSize(64));
        var e = assertThrows(IllegalArgumentException.class, () -> trainer.train(wrongSize.dataset(Split.TRAIN, 10)));
        assertTrue(e.getMessage().contains("64x64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> trainer.train(TASK.dataset(Split.TRAIN, 0)));
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
