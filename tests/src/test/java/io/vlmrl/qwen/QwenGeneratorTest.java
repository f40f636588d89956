package io.vlmrl.qwen;

import io.vlmrl.hf.SafeTensorsFile;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.SamplingConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.vlmrl.qwen.QwenFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Sampling G responses per prompt from one prefill: reproducible, and every recorded log-prob equals
 * the log-prob that a plain teacher-forced forward pass (no cache) gives the same token.
 */
class QwenGeneratorTest {
    private static QwenVlModel model;
    private static List<QwenPrompt> prompts;
    private static List<Tensor[]> images; // per prompt: pixel values, grid

    @BeforeAll
    static void load() throws IOException {
        model = QwenCheckpoint.load(QwenFixture.float32());
        prompts = new ArrayList<>();
        images = new ArrayList<>();
        try (SafeTensorsFile ref = QwenFixture.references(QwenFixture.float32())) {
            String[][] cases = {{"case1", "37", "image_a"}, {"case2", "51", "image_b", "image_c"}};
            for (String[] c : cases) {
                long[] ids = Arrays.copyOf(longs(ref.read(c[0] + ".input_ids")), Integer.parseInt(c[1]));
                List<Tensor> pixels = new ArrayList<>();
                for (int i = 2; i < c.length; i++) {
                    pixels.add(ref.read(c[i] + ".pixel_values"));
                }
                Tensor pv = torch.cat(new TensorVector(pixels.toArray(new Tensor[0])), 0);
                Tensor grid = ref.read(c[0] + ".image_grid_thw");
                prompts.add(new QwenPrompt(ids, floats(pv), QwenTensors.grid(grid)));
                images.add(new Tensor[] {pv, grid});
            }
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void samplesAreReproducibleAndTheirLogProbsMatchAForwardPass() {
        QwenGenerator generator = new QwenGenerator(model);
        for (SamplingConfig sampling : List.of(SamplingConfig.sample(6, 7),
                SamplingConfig.sample(6, 11).withTemperature(0.7).withTopK(50),
                SamplingConfig.sample(5, 3).withTopP(0.9))) {
            GeneratedResponses a = generator.generate(prompts, 3, sampling, new int[0]);
            GeneratedResponses b = generator.generate(prompts, 3, sampling, new int[0]);
            assertEquals(6, a.size());
            for (int row = 0; row < a.size(); row++) {
                assertArrayEquals(a.tokens()[row], b.tokens()[row], "same seed, same samples");
                assertArrayEquals(a.logProbs()[row], b.logProbs()[row]);
                assertEquals(sampling.maxNewTokens(), a.tokens()[row].length);
                assertTrue(a.truncated()[row]);
                assertTeacherForcedLogProbs(row / 3, a.tokens()[row], a.logProbs()[row], sampling.temperature());
            }
            // three samples of the same prompt differ (1024 tokens, random weights)
            assertFalse(Arrays.equals(a.tokens()[0], a.tokens()[1]) && Arrays.equals(a.tokens()[1], a.tokens()[2]));
        }
        GeneratedResponses other = generator.generate(prompts, 3, SamplingConfig.sample(6, 8), new int[0]);
        GeneratedResponses seven = generator.generate(prompts, 3, SamplingConfig.sample(6, 7), new int[0]);
        assertFalse(Arrays.deepEquals(other.tokens(), seven.tokens()), "another seed, other samples");
    }

    /** The prompt plus the sampled tokens through {@link QwenVlModel#forward}: log_softmax(logits / T) of each sampled token. */
    private static void assertTeacherForcedLogProbs(int prompt, int[] tokens, float[] logProbs, double temperature) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            long[] promptIds = prompts.get(prompt).ids();
            long[] ids = Arrays.copyOf(promptIds, promptIds.length + tokens.length);
            for (int i = 0; i < tokens.length; i++) {
                ids[promptIds.length + i] = tokens[i];
            }
            Tensor idsT = QwenTensors.longs(ids, new Device("cpu"), 1, ids.length);
            Tensor logits = model.logits(model.forward(idsT, null, images.get(prompt)[0], images.get(prompt)[1]));
            Tensor lp = torch.log_softmax(logits.select(0, 0).narrow(0, promptIds.length - 1, tokens.length)
                    .div(new Scalar(temperature)), 1);
            long[] index = Arrays.stream(tokens).asLongStream().toArray();
            Tensor expected = lp.gather(1, QwenTensors.longs(index, new Device("cpu"), tokens.length, 1)).squeeze(1);
            double diff = maxAbsDiff(QwenTensors.floats(logProbs, new Device("cpu"), tokens.length), expected);
            assertTrue(diff < 1e-4, "prompt " + prompt + " tokens " + Arrays.toString(tokens) + ": log-probs differ by " + diff);
        }
    }

    @Test
    void topKOfOneIsGreedy() {
        QwenGenerator generator = new QwenGenerator(model);
        GeneratedResponses greedy = generator.generate(prompts, 1, SamplingConfig.greedy(6), new int[0]);
        GeneratedResponses topOne = generator.generate(prompts, 2, SamplingConfig.sample(6, 5).withTopK(1), new int[0]);
        for (int row = 0; row < topOne.size(); row++) {
            assertArrayEquals(greedy.tokens()[row / 2], topOne.tokens()[row]);
        }
    }

    @Test
    void repeatedRowsDecodeLikeTheOriginal() throws IOException {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            QwenPrompt p = prompts.get(0);
            Tensor ids = QwenTensors.longs(p.ids(), new Device("cpu"), 1, p.length());
            Tensor image = model.encodeImages(images.get(0)[0], images.get(0)[1]);
            QwenVlModel.Prefill once = model.prefill(ids, null, image, p.gridThw(), p.length() + 3);
            QwenVlModel.Prefill twice = model.prefill(ids, null, image, p.gridThw(), p.length() + 3);
            QwenDecodeState repeated = twice.state().repeatRows(3);
            assertEquals(3, repeated.rows());
            assertArrayEquals(new long[] {29, 29, 29}, repeated.nextPositions(), "P 37 + delta -8");
            long[] tokens = {5, 6, 7};
            for (int step = 0; step < 3; step++) {
                Tensor single = model.decode(once.state(), new long[] {tokens[step]});
                Tensor many = model.decode(repeated, new long[] {tokens[step], tokens[step], tokens[step]});
                for (int r = 0; r < 3; r++) {
                    assertTrue(maxAbsDiff(many.select(0, r), single.select(0, 0)) < 1e-5, "step " + step + " row " + r);
                }
            }
            IllegalStateException full = assertThrows(IllegalStateException.class,
                    () -> model.decode(once.state(), new long[] {1}));
            assertTrue(full.getMessage().contains("KV cache full"), full.getMessage());
        }
    }

    @Test
    void badPromptsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QwenPrompt(new long[] {1, 2}, new float[10], new long[][] {{1, 2, 2}}));
        assertTrue(e.getMessage().contains("4 patches"), e.getMessage());
        QwenGenerator generator = new QwenGenerator(model);
        QwenPrompt wrongWidth = new QwenPrompt(new long[] {1009, 1012, 1010}, new float[4 * 10], new long[][] {{1, 2, 2}});
        e = assertThrows(IllegalArgumentException.class,
                () -> generator.generate(List.of(wrongWidth), 1, SamplingConfig.greedy(2), new int[0]));
        assertTrue(e.getMessage().contains("expected 4 patches × 1176"), e.getMessage());
        try (PointerScope scope = new PointerScope()) {
            Tensor ids = QwenTensors.longs(new long[] {5, 6, 1000}, new Device("cpu"), 1, 3);
            Tensor rightPadded = QwenTensors.longs(new long[] {1, 1, 0}, new Device("cpu"), 1, 3);
            e = assertThrows(IllegalArgumentException.class, () -> model.prefill(ids, rightPadded, null, null, 5));
            assertTrue(e.getMessage().contains("left-padded"), e.getMessage());
            Tensor outOfVocab = QwenTensors.longs(new long[] {5, 1024}, new Device("cpu"), 1, 2);
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(outOfVocab, null, null, null));
            assertTrue(e.getMessage().contains("inputIds[0, 1] = 1024 is outside the vocabulary [0, 1024)"), e.getMessage());
            Tensor withImage = QwenTensors.longs(new long[] {1009, 1012, 1010}, new Device("cpu"), 1, 3);
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(withImage, null, null, null));
            assertTrue(e.getMessage().contains("hold 1 image tokens (id 1012) but there are 0 image embeddings"), e.getMessage());
        }
    }
}
