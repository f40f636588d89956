package io.vlmrl.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static io.vlmrl.model.ModelFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class VisionLanguageModelTest {
    private static final WordTokenizer TOK = tokenizer();
    private static final int IMG = TOK.imagePlaceholderId();
    private static final int PAD = TOK.padId();

    private static VisionLanguageModel model(VlmConfig config) {
        return new VisionLanguageModel(config, 7);
    }

    @Test
    void forwardShapesAndHiddenTimesHeadIsLogits() {
        VlmConfig config = tinyConfig();
        VisionLanguageModel m = model(config);
        Tensor[] prompt = leftPadded(new long[][] {{IMG, 10, 11, 12}, {IMG, 13}}, 5, PAD);
        Tensor response = rightPadded(new long[][] {{20, 21, 22}, {23}}, 3, PAD);
        Tensor pixels = pixels(2, 16, 1);
        Tensor logits = m.responseLogits(pixels, prompt[0], prompt[1], response);
        assertArrayEquals(new long[] {2, 3, config.vocabSize()}, Tensors.shape(logits));
        Tensor hidden = m.responseHidden(pixels, prompt[0], prompt[1], response);
        assertArrayEquals(new long[] {2, 3, config.hiddenSize()}, Tensors.shape(hidden));
        assertArrayEquals(new long[] {config.vocabSize(), config.hiddenSize()}, Tensors.shape(m.lmHeadWeight()));
        assertTrue(maxAbsDiff(logits, hidden.matmul(m.lmHeadWeight().t())) < 1e-5);
        assertEquals("Float", logits.scalar_type().toString());
        assertArrayEquals(new long[] {2, config.numImageTokens(), config.hiddenSize()}, Tensors.shape(m.encodeImages(pixels)));
    }

    @Test
    void leftPaddingOfThePromptDoesNotChangeLogits() {
        VisionLanguageModel m = model(tinyConfig());
        long[] row = {IMG, 10, 11, 12};
        Tensor pixels = pixels(1, 16, 2);
        Tensor response = rightPadded(new long[][] {{20, 21, 22, 23}}, 4, PAD);
        Tensor[] tight = leftPadded(new long[][] {row}, 4, PAD);
        Tensor[] padded = leftPadded(new long[][] {row}, 9, PAD);
        Tensor a = m.responseLogits(pixels, tight[0], tight[1], response);
        Tensor b = m.responseLogits(pixels, padded[0], padded[1], response);
        assertTrue(maxAbsDiff(a, b) < 1e-5, "left padding changed logits by " + maxAbsDiff(a, b));
    }

    @Test
    void batchedRowsMatchTheirOwnUnbatchedRun() {
        VisionLanguageModel m = model(tinyConfig());
        long[][] rows = {{IMG, 10, 11, 12, 13, 14}, {5, IMG, 15}, {IMG}};
        long[][] responses = {{20, 21}, {22, 23, 24, 25}, {26}};
        Tensor pixels = pixels(3, 16, 3);
        Tensor[] prompt = leftPadded(rows, 6, PAD);
        Tensor batched = m.responseLogits(pixels, prompt[0], prompt[1], rightPadded(responses, 4, PAD));
        for (int b = 0; b < rows.length; b++) {
            Tensor[] single = leftPadded(new long[][] {rows[b]}, rows[b].length, PAD);
            Tensor alone = m.responseLogits(pixels.narrow(0, b, 1), single[0], single[1],
                    rightPadded(new long[][] {responses[b]}, responses[b].length, PAD));
            Tensor mine = batched.narrow(0, b, 1).narrow(1, 0, responses[b].length);
            assertTrue(maxAbsDiff(mine, alone) < 1e-5, "row " + b + " differs by " + maxAbsDiff(mine, alone));
        }
    }

    @Test
    void paddingTokenValuesAreNeverAttended() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor pixels = pixels(1, 16, 4);
        Tensor[] prompt = leftPadded(new long[][] {{IMG, 10, 11}}, 6, PAD);
        Tensor garbagePrompt = prompt[0].clone();
        garbagePrompt.narrow(1, 0, 3).fill_(new org.bytedeco.pytorch.Scalar(17)); // ids under mask 0
        Tensor response = rightPadded(new long[][] {{20, 21}}, 5, PAD);
        Tensor garbageResponse = response.clone();
        garbageResponse.narrow(1, 2, 3).fill_(new org.bytedeco.pytorch.Scalar(30)); // right padding
        Tensor a = m.responseLogits(pixels, prompt[0], prompt[1], response).narrow(1, 0, 3);
        Tensor b = m.responseLogits(pixels, garbagePrompt, prompt[1], garbageResponse).narrow(1, 0, 3);
        // Positions 0..2 predict tokens 0..2 from tokens before them: none of them sees the padding.
        assertTrue(maxAbsDiff(a, b) < 1e-6);
    }

    @Test
    void attentionIsCausalOverTheResponse() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor pixels = pixels(1, 16, 5);
        Tensor[] prompt = leftPadded(new long[][] {{IMG, 10}}, 2, PAD);
        Tensor r1 = rightPadded(new long[][] {{20, 21, 22, 23}}, 4, PAD);
        Tensor r2 = rightPadded(new long[][] {{20, 21, 29, 23}}, 4, PAD);
        Tensor a = m.responseLogits(pixels, prompt[0], prompt[1], r1);
        Tensor b = m.responseLogits(pixels, prompt[0], prompt[1], r2);
        assertTrue(maxAbsDiff(a.narrow(1, 0, 3), b.narrow(1, 0, 3)) < 1e-6, "token 2 must only affect later positions");
        assertTrue(maxAbsDiff(a.narrow(1, 3, 1), b.narrow(1, 3, 1)) > 1e-6, "token 2 must affect position 3");
    }

    @Test
    void theImageAndItsPlaceMatter() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor response = rightPadded(new long[][] {{20, 21}}, 2, PAD);
        Tensor[] first = leftPadded(new long[][] {{IMG, 10, 11}}, 3, PAD);
        Tensor[] last = leftPadded(new long[][] {{10, 11, IMG}}, 3, PAD);
        Tensor a = m.responseLogits(pixels(1, 16, 6), first[0], first[1], response);
        Tensor b = m.responseLogits(pixels(1, 16, 7), first[0], first[1], response);
        Tensor c = m.responseLogits(pixels(1, 16, 6), last[0], last[1], response);
        assertTrue(maxAbsDiff(a, b) > 1e-6, "different images must give different logits");
        assertTrue(maxAbsDiff(a, c) > 1e-6, "the placeholder position must matter");
    }

    @Test
    void gradientsReachEveryPart() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor[] prompt = leftPadded(new long[][] {{IMG, 10, 11}, {IMG, 12}}, 3, PAD);
        Tensor response = rightPadded(new long[][] {{20, 21}, {22, 2}}, 2, PAD);
        Tensor logits = m.responseLogits(pixels(2, 16, 8), prompt[0], prompt[1], response);
        torch.log_softmax(logits, 2).mean().backward();
        for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
            Tensor g = e.getValue().grad();
            assertTrue(g.defined(), e.getKey() + " has no gradient");
            assertTrue(g.abs().sum().item_double() > 0, e.getKey() + " has a zero gradient");
        }
    }

    @Test
    void textOnlyPromptsWork() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor[] prompt = leftPadded(new long[][] {{10, 11}, {12}}, 2, PAD);
        Tensor logits = m.responseLogits(null, prompt[0], prompt[1], rightPadded(new long[][] {{20}, {21}}, 1, PAD));
        assertArrayEquals(new long[] {2, 1, m.config().vocabSize()}, Tensors.shape(logits));
    }

    @Test
    void maskDefaultsToNonPadIds() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor[] prompt = leftPadded(new long[][] {{IMG, 10, 11}, {IMG, 12}}, 4, PAD);
        Tensor response = rightPadded(new long[][] {{20, 21}, {22}}, 2, PAD);
        Tensor pixels = pixels(2, 16, 9);
        assertTrue(maxAbsDiff(m.responseLogits(pixels, prompt[0], prompt[1], response),
                m.responseLogits(pixels, prompt[0], null, response)) < 1e-7);
    }

    @Test
    void badPromptsAreRejectedWithClearMessages() {
        VisionLanguageModel m = model(tinyConfig());
        Tensor pixels = pixels(1, 16, 10);
        Tensor response = rightPadded(new long[][] {{20}}, 1, PAD);
        Tensor[] none = leftPadded(new long[][] {{10, 11}}, 2, PAD);
        var e1 = assertThrows(IllegalArgumentException.class, () -> m.responseLogits(pixels, none[0], none[1], response));
        assertTrue(e1.getMessage().contains("image placeholder"), e1.getMessage());
        Tensor[] two = leftPadded(new long[][] {{IMG, IMG}}, 2, PAD);
        var e2 = assertThrows(IllegalArgumentException.class, () -> m.responseLogits(pixels, two[0], two[1], response));
        assertTrue(e2.getMessage().contains("exactly one"), e2.getMessage());
        Tensor rightPaddedPrompt = torch.tensor(new long[] {IMG, 10, PAD}).view(1, 3);
        var e3 = assertThrows(IllegalArgumentException.class,
                () -> m.responseLogits(pixels, rightPaddedPrompt, null, response));
        assertTrue(e3.getMessage().contains("left-padded"), e3.getMessage());
        Tensor[] ok = leftPadded(new long[][] {{IMG, 10}}, 2, PAD);
        var e4 = assertThrows(IllegalArgumentException.class,
                () -> m.responseLogits(torch.rand(1, 3, 8, 8), ok[0], ok[1], response));
        assertTrue(e4.getMessage().contains("pixels"), e4.getMessage());
        Tensor badId = torch.tensor(new long[] {IMG, 10_000}).view(1, 2);
        var e5 = assertThrows(IllegalArgumentException.class, () -> m.responseLogits(pixels, badId, null, response));
        assertTrue(e5.getMessage().contains("promptIds"), e5.getMessage());
    }

    @Test
    void variantsRun() {
        VlmConfig[] configs = {
                tinyBuilder(TOK).visionPositions("rope2d").visionWidth(16).visionHeads(2).build(),
                tinyBuilder(TOK).numKvHeads(2).build(),
                tinyBuilder(TOK).tieEmbeddings(false).attentionBias(false).build(),
        };
        for (VlmConfig config : configs) {
            VisionLanguageModel m = model(config);
            Tensor[] prompt = leftPadded(new long[][] {{IMG, 10, 11}, {IMG}}, 3, PAD);
            Tensor[] padded = leftPadded(new long[][] {{IMG, 10, 11}, {IMG}}, 5, PAD);
            Tensor response = rightPadded(new long[][] {{20, 21}, {22}}, 2, PAD);
            Tensor pixels = pixels(2, 16, 11);
            Tensor a = m.responseLogits(pixels, prompt[0], prompt[1], response);
            Tensor b = m.responseLogits(pixels, padded[0], padded[1], response);
            assertTrue(maxAbsDiff(a.narrow(1, 0, 1), b.narrow(1, 0, 1)) < 1e-5, config.toString());
        }
        assertTrue(model(configs[2]).namedParameters().containsKey("language.lm_head.weight"));
        assertFalse(model(configs[1]).namedParameters().containsKey("language.lm_head.weight"));
    }

    @Test
    void sameSeedSameWeightsAndCopiesAreIndependent() {
        VlmConfig config = tinyConfig();
        VisionLanguageModel a = new VisionLanguageModel(config, 3);
        VisionLanguageModel b = new VisionLanguageModel(config, 3);
        VisionLanguageModel c = new VisionLanguageModel(config, 4);
        Tensor wa = a.lmHeadWeight(), wb = b.lmHeadWeight(), wc = c.lmHeadWeight();
        assertEquals(0.0, maxAbsDiff(wa, wb));
        assertTrue(maxAbsDiff(wa, wc) > 0);

        VisionLanguageModel copy = a.copy().freeze();
        for (Map.Entry<String, Tensor> e : copy.namedParameters().entrySet()) {
            assertFalse(e.getValue().requires_grad(), e.getKey());
            assertEquals(0.0, maxAbsDiff(e.getValue(), a.namedParameters().get(e.getKey())), e.getKey());
        }
        assertTrue(a.lmHeadWeight().requires_grad());
        try (var ignored = new org.bytedeco.pytorch.NoGradGuard()) {
            a.lmHeadWeight().add_(new org.bytedeco.pytorch.Scalar(1.0));
        }
        assertTrue(maxAbsDiff(a.lmHeadWeight(), copy.lmHeadWeight()) > 0.5, "the copy must not share storage");
        c.loadStateFrom(a);
        assertEquals(0.0, maxAbsDiff(c.lmHeadWeight(), a.lmHeadWeight()));
        VisionLanguageModel other = new VisionLanguageModel(tinyBuilder(TOK).hiddenSize(64).build());
        assertThrows(IllegalArgumentException.class, () -> other.loadStateFrom(a));
    }

    @Test
    void parameterGroupsPartitionTheParameters() {
        VisionLanguageModel m = model(tinyConfig());
        VisionLanguageModel.ParameterGroups groups = m.parameterGroups();
        Set<String> all = new HashSet<>(groups.decay().keySet());
        all.addAll(groups.noDecay().keySet());
        assertEquals(m.namedParameters().keySet(), all);
        assertEquals(m.namedParameters().size(), groups.decay().size() + groups.noDecay().size());
        groups.decay().forEach((name, p) -> assertTrue(p.dim() >= 2, name));
        groups.noDecay().forEach((name, p) -> assertTrue(p.dim() < 2, name));
        assertTrue(groups.noDecay().containsKey("language.model.norm.weight"));
        assertTrue(groups.decay().containsKey("language.model.embed_tokens.weight"));
        assertEquals(groups.decay().size(), groups.decayVector().size());
        long counted = m.namedParameters().values().stream().mapToLong(Tensor::numel).sum();
        assertEquals(counted, m.parameterCount());
    }
}
