package io.vlmrl.model;

import io.vlmrl.policy.SamplingConfig;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.vlmrl.model.ModelFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class ResponseGeneratorTest {
    private static final WordTokenizer TOK = tokenizer();
    private static final int IMG = TOK.imagePlaceholderId();
    private static final int PAD = TOK.padId();
    private static final long[][] PROMPTS = {{IMG, 10, 11, 12, 13}, {7, IMG}, {IMG, 14, 15}};

    private final VisionLanguageModel model = new VisionLanguageModel(tinyConfig(), 11);
    private final Tensor pixels = pixels(3, 16, 21);
    private final Tensor[] prompt = leftPadded(PROMPTS, 5, PAD);

    private GenerationResult generate(SamplingConfig s) {
        return new ResponseGenerator(model).generate(pixels, prompt[0], prompt[1], s);
    }

    /** Log-probs of the sampled tokens recomputed by a full teacher-forced forward pass (no cache). */
    private Tensor fullForwardLogProbs(GenerationResult r, double temperature) {
        Tensor logits = model.responseLogits(pixels, prompt[0], prompt[1], r.responseIds());
        Tensor logp = torch.log_softmax(logits.div(new org.bytedeco.pytorch.Scalar(temperature)), 2);
        return logp.gather(2, r.responseIds().unsqueeze(2)).squeeze(2).mul(r.responseMask());
    }

    @Test
    void cachedLogProbsMatchAFullForwardPass() {
        for (double temperature : new double[] {1.0, 0.7}) {
            GenerationResult r = generate(new SamplingConfig(temperature, 1.0, 0, 12, false, 5));
            double diff = maxAbsDiff(r.logProbs(), fullForwardLogProbs(r, temperature));
            assertTrue(diff < 1e-4, "KV-cache log-probs differ from the full forward by " + diff);
        }
    }

    @Test
    void resultShapesMasksAndPadding() {
        GenerationResult r = generate(SamplingConfig.sample(9, 3));
        int b = PROMPTS.length;
        assertEquals(b, r.batchSize());
        int t = r.maxLength();
        assertEquals(Arrays.stream(r.lengths()).max().getAsInt(), t);
        assertArrayEquals(new long[] {b, t}, Tensors.shape(r.responseIds()));
        assertArrayEquals(new long[] {b, t}, Tensors.shape(r.logProbs()));
        assertArrayEquals(new long[] {b, t}, Tensors.shape(r.responseMask()));
        long[] ids = longs(r.responseIds());
        float[] mask = floats(r.responseMask()), lp = floats(r.logProbs());
        for (int i = 0; i < b; i++) {
            assertTrue(r.lengths()[i] >= 1 && r.lengths()[i] <= 9);
            boolean endsWithEos = r.tokens()[i][r.lengths()[i] - 1] == TOK.eosId();
            assertEquals(!endsWithEos, r.truncated()[i], "truncated iff no end token");
            if (r.truncated()[i]) {
                assertEquals(9, r.lengths()[i]);
            }
            for (int j = 0; j < t; j++) {
                boolean real = j < r.lengths()[i];
                assertEquals(real ? 1f : 0f, mask[i * t + j]);
                if (real) {
                    assertEquals(r.tokens()[i][j], ids[i * t + j]);
                    assertEquals(r.tokenLogProbs()[i][j], lp[i * t + j]);
                    assertTrue(lp[i * t + j] <= 0f);
                } else {
                    assertEquals(PAD, ids[i * t + j]);
                    assertEquals(0f, lp[i * t + j]);
                }
            }
        }
    }

    @Test
    void seededSamplingIsReproducibleAndSeedsDiffer() {
        SamplingConfig s = SamplingConfig.sample(10, 42);
        GenerationResult a = generate(s), b = generate(s), c = generate(s.withSeed(43));
        assertTrue(Arrays.deepEquals(a.tokens(), b.tokens()));
        assertEquals(0.0, maxAbsDiff(a.logProbs(), b.logProbs()));
        assertFalse(Arrays.deepEquals(a.tokens(), c.tokens()), "a different seed should give different samples");
    }

    @Test
    void greedyIsDeterministicAndPicksTheArgmax() {
        GenerationResult a = generate(SamplingConfig.greedy(8));
        GenerationResult b = generate(SamplingConfig.greedy(8).withSeed(99));
        assertTrue(Arrays.deepEquals(a.tokens(), b.tokens()));
        Tensor logits = model.responseLogits(pixels, prompt[0], prompt[1], a.responseIds());
        long[] argmax = longs(logits.argmax(new org.bytedeco.pytorch.LongOptional(2), false));
        int t = a.maxLength();
        for (int i = 0; i < a.batchSize(); i++) {
            for (int j = 0; j < a.lengths()[i]; j++) {
                assertEquals(argmax[i * t + j], a.tokens()[i][j], "row " + i + " token " + j);
            }
        }
        assertTrue(maxAbsDiff(a.logProbs(), fullForwardLogProbs(a, 1.0)) < 1e-4);
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        GenerationResult greedy = generate(SamplingConfig.greedy(6));
        assertTrue(Arrays.deepEquals(greedy.tokens(), generate(SamplingConfig.sample(6, 1).withTopK(1)).tokens()));
        assertTrue(Arrays.deepEquals(greedy.tokens(), generate(SamplingConfig.sample(6, 2).withTopP(1e-6)).tokens()));
    }

    @Test
    void generationStopsAtTheEndToken() {
        GenerationResult free = generate(SamplingConfig.greedy(5));
        int first = free.tokens()[0][0];
        // The same weights (same seed) with the end token set to row 0's first greedy token.
        VlmConfig.Builder builder = tinyBuilder(TOK);
        VlmConfig stopping = builder.eosId(first).build();
        VisionLanguageModel m = new VisionLanguageModel(stopping, 11);
        GenerationResult r = new ResponseGenerator(m).generate(pixels, prompt[0], prompt[1], SamplingConfig.greedy(5));
        assertEquals(1, r.lengths()[0]);
        assertFalse(r.truncated()[0]);
        assertEquals(first, r.tokens()[0][0]);
        assertEquals(1f, floats(r.responseMask())[0]);
        for (int i = 1; i < r.batchSize(); i++) {
            int stop = indexOf(free.tokens()[i], first);
            int expected = stop < 0 ? 5 : stop + 1;
            assertEquals(expected, r.lengths()[i], "row " + i);
            assertEquals(stop < 0, r.truncated()[i]);
        }
    }

    @Test
    void truncateKeepsTopKAndTheNucleus() {
        Tensor logits = torch.tensor(new float[] {2f, 1f, 0f, -1f, 3f}).view(1, 5);
        float[] k2 = floats(ResponseGenerator.truncate(logits, 2, 1.0));
        assertArrayEquals(new boolean[] {true, false, false, false, true}, finite(k2));
        // softmax = [.237, .087, .032, .012, .644]: p = 0.85 needs tokens 4 and 0 (0.88).
        float[] p = floats(ResponseGenerator.truncate(logits, 0, 0.85));
        assertArrayEquals(new boolean[] {true, false, false, false, true}, finite(p));
        float[] p2 = floats(ResponseGenerator.truncate(logits, 0, 0.9));
        assertArrayEquals(new boolean[] {true, true, false, false, true}, finite(p2));
        assertArrayEquals(floats(logits), floats(ResponseGenerator.truncate(logits, 0, 1.0)));
    }

    @Test
    void samplingFollowsTheModelDistribution() {
        // A sharpened copy of the model (final norm x 40) has a peaked next-token distribution;
        // one token from many identical prompts must follow softmax(logits / T).
        VisionLanguageModel sharp = model.copy();
        try (var ignored = new org.bytedeco.pytorch.NoGradGuard()) {
            sharp.namedParameters().get("language.model.norm.weight").mul_(new org.bytedeco.pytorch.Scalar(40.0));
        }
        Tensor[] one = leftPadded(new long[][] {{IMG, 10}}, 2, PAD);
        Tensor px = pixels.narrow(0, 0, 1);
        double temperature = 2.0;
        Tensor logits = sharp.responseLogits(px, one[0], one[1], torch.tensor(new long[] {PAD}).view(1, 1)).select(1, 0);
        float[] p = floats(torch.softmax(logits.div(new org.bytedeco.pytorch.Scalar(temperature)), 1));
        int n = 2000;
        Tensor repeated = px.expand(n, 3, 16, 16).contiguous();
        Tensor ids = one[0].expand(n, 2).contiguous();
        GenerationResult r = new ResponseGenerator(sharp).generate(repeated, ids, null,
                new SamplingConfig(temperature, 1.0, 0, 1, false, 8));
        double[] counts = new double[p.length];
        for (int[] row : r.tokens()) {
            counts[row[0]]++;
        }
        double tv = 0, maxP = 0;
        for (int v = 0; v < p.length; v++) {
            tv += Math.abs(counts[v] / n - p[v]) / 2;
            maxP = Math.max(maxP, p[v]);
        }
        assertTrue(maxP > 0.1, "the sharpened distribution should be peaked, max p = " + maxP);
        assertTrue(tv < 0.1, "total variation between samples and softmax(logits / T): " + tv);
    }

    @Test
    void tooLongRequestsAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> generate(SamplingConfig.greedy(61)));
        assertTrue(e.getMessage().contains("maxSeqLen"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(0.0, 1.0, 0, 4, false, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(1.0, 0.0, 0, 4, false, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(1.0, 1.0, -1, 4, false, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingConfig(1.0, 1.0, 0, 0, false, 0));
    }

    private static boolean[] finite(float[] values) {
        boolean[] out = new boolean[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.isFinite(values[i]);
        }
        return out;
    }

    private static int indexOf(int[] row, int token) {
        for (int i = 0; i < row.length; i++) {
            if (row[i] == token) {
                return i;
            }
        }
        return -1;
    }
}
