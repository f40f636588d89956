package io.vlmrl.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.vlmrl.model.ModelFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** Proof that the model learns: some teacher-forced steps on toy tasks lower the loss below what guessing gets. */
class ToyTaskLearningTest {
    private static final WordTokenizer TOK = tokenizer();
    private static final int IMG = TOK.imagePlaceholderId();
    private static int savedThreads;

    /*
     * These models are tiny: a second LibTorch thread only adds a barrier per op, and on a busy
     * machine each barrier can wait for a descheduled peer (that made this class take minutes).
     */
    @BeforeAll
    static void singleThread() {
        savedThreads = torch.get_num_threads();
        torch.set_num_threads(1);
    }

    @AfterAll
    static void restoreThreads() {
        torch.set_num_threads(savedThreads);
    }

    /** Mean cross-entropy of the response tokens where mask = 1. */
    private static Tensor loss(VisionLanguageModel m, Tensor pixels, Tensor promptIds, Tensor responseIds, Tensor mask) {
        Tensor logp = torch.log_softmax(m.responseLogits(pixels, promptIds, null, responseIds), 2);
        Tensor tokenLogp = logp.gather(2, responseIds.unsqueeze(2)).squeeze(2);
        return tokenLogp.mul(mask).sum().div(mask.sum()).neg();
    }

    @Test
    void copyTaskLossFalls() {
        VisionLanguageModel m = new VisionLanguageModel(tinyBuilder(TOK).hiddenSize(64).build(), 1);
        AdamW opt = new AdamW(m.parameters(), new AdamWOptions(1e-2));
        Random random = new Random(0);
        int batch = 32, digits = 2, copy = TOK.tokenId("copy");
        double first = 0, last = 0;
        int steps = 100;
        for (int step = 0; step < steps; step++) {
            try (PointerScope scope = new PointerScope()) {
                long[][] prompts = new long[batch][];
                long[][] responses = new long[batch][];
                for (int b = 0; b < batch; b++) {
                    prompts[b] = new long[digits + 2];
                    responses[b] = new long[digits + 1];
                    prompts[b][0] = IMG;
                    prompts[b][1] = copy;
                    for (int d = 0; d < digits; d++) {
                        long id = TOK.tokenId(Integer.toString(random.nextInt(10)));
                        prompts[b][d + 2] = id;
                        responses[b][d] = id;
                    }
                    responses[b][digits] = TOK.eosId();
                }
                Tensor[] prompt = leftPadded(prompts, digits + 2, TOK.padId());
                Tensor response = rightPadded(responses, digits + 1, TOK.padId());
                Tensor l = loss(m, torch.zeros(batch, 3, 16, 16), prompt[0], response, torch.ones(batch, digits + 1));
                opt.zero_grad();
                l.backward();
                opt.step();
                double value = l.item_double();
                if (step < 5) {
                    first += value / 5;
                }
                if (step >= steps - 5) {
                    last += value / 5;
                }
            }
        }
        assertTrue(first > 3.0, "an untrained model should be near ln(V) = " + Math.log(TOK.vocabSize()) + ", got " + first);
        assertTrue(last < 0.25 * first, "copy loss should fall well below its start: " + first + " -> " + last);
        // Without reading the prompt the best is a uniform guess per digit and a sure end token.
        double noInformation = digits * Math.log(10) / (digits + 1);
        assertTrue(last < noInformation, "the digits must be copied from the prompt: final loss " + last
                + ", the no-information loss is " + noInformation);
    }

    @Test
    void answersDependOnTheImage() {
        // Solid-colour images; the answer is the colour's word. Without looking at the image the
        // best possible loss on the colour token is ln 3 = 1.10.
        VisionLanguageModel m = new VisionLanguageModel(tinyConfig(), 2);
        AdamW opt = new AdamW(m.parameters(), new AdamWOptions(1e-2));
        String[] colours = {"red", "green", "blue"};
        Random random = new Random(1);
        int batch = 24;
        double last = 0;
        int steps = 40;
        for (int step = 0; step < steps; step++) {
            try (PointerScope scope = new PointerScope()) {
                float[] pixels = new float[batch * 3 * 16 * 16];
                long[][] responses = new long[batch][];
                long[][] prompts = new long[batch][];
                for (int b = 0; b < batch; b++) {
                    int c = random.nextInt(3);
                    for (int ch = 0; ch < 3; ch++) {
                        for (int i = 0; i < 256; i++) {
                            pixels[((b * 3) + ch) * 256 + i] = (ch == c ? 0.8f : 0.1f) + 0.1f * random.nextFloat();
                        }
                    }
                    prompts[b] = new long[] {IMG, TOK.tokenId("is"), TOK.tokenId("the")};
                    responses[b] = new long[] {TOK.tokenId(colours[c]), TOK.eosId()};
                }
                Tensor[] prompt = leftPadded(prompts, 3, TOK.padId());
                Tensor response = rightPadded(responses, 2, TOK.padId());
                Tensor colourOnly = torch.tensor(new float[] {1f, 0f}).view(1, 2).expand(batch, 2).contiguous();
                Tensor l = loss(m, torch.tensor(pixels).view(batch, 3, 16, 16), prompt[0], response, colourOnly);
                opt.zero_grad();
                l.backward();
                opt.step();
                if (step >= steps - 5) {
                    last += l.item_double() / 5;
                }
            }
        }
        assertTrue(last < 0.3, "the colour must be read from the image: final loss " + last + " (ln 3 = 1.10 without it)");
    }
}
