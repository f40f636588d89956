package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import io.vlmrl.hf.SafeTensorsFile;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.SamplingConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.vlmrl.qwen.QwenFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The model against transformers' own outputs for the tiny fixture: every vision and decoder
 * intermediate, logits, continuation log-probs, and 8 greedy tokens decoded with the KV cache, for
 * the float32 weights and for the BF16 weights up-cast to float32. Tolerance 1e-4 (the fixture's).
 */
class QwenReferenceTest {
    private static final double ATOL = 1e-4;
    private static QwenVlModel f32, bf16;
    private static SafeTensorsFile ref32, ref16;

    @BeforeAll
    static void load() throws IOException {
        f32 = QwenCheckpoint.load(QwenFixture.float32());
        bf16 = QwenCheckpoint.load(QwenFixture.bf16());
        ref32 = QwenFixture.references(QwenFixture.float32());
        ref16 = QwenFixture.references(QwenFixture.bf16());
    }

    @AfterAll
    static void close() throws IOException {
        ref32.close();
        ref16.close();
        f32.close();
        bf16.close();
    }

    /** One case's inputs from the reference files. */
    record Case(String name, Tensor inputIds, Tensor pixelValues, Tensor grid, int promptLength) {
        static Case of(String name) throws IOException {
            JsonNode c = QwenFixture.referenceJson(QwenFixture.float32()).at("/cases/" + name);
            List<Tensor> pixels = new ArrayList<>();
            for (JsonNode image : c.get("images")) {
                pixels.add(ref32.read(image.asText() + ".pixel_values"));
            }
            return new Case(name, ref32.read(name + ".input_ids"), torch.cat(new TensorVector(pixels.toArray(new Tensor[0])), 0),
                    ref32.read(name + ".image_grid_thw"), c.get("prompt_len").asInt());
        }

        long[][] gridRows() {
            return QwenTensors.grid(grid);
        }

        Tensor promptIds() {
            return inputIds.narrow(1, 0, promptLength);
        }
    }

    private static final List<String> CASES = List.of("case1", "case2");

    @Test
    void forwardMatchesEveryIntermediate() throws IOException {
        for (String name : CASES) {
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                Case c = Case.of(name);
                Map<String, Tensor> seen = new LinkedHashMap<>();
                Tensor hidden = f32.forward(c.inputIds(), null, c.pixelValues(), c.grid(), (n, t) -> seen.put(n, t));
                int expectedProbes = 1 + 4 + 1 + 1 + 1 + 3 + 1; // patch, blocks, merger, output, embeds, layers, norm
                assertEquals(expectedProbes, seen.size(), seen.keySet().toString());
                StringBuilder report = new StringBuilder(name + " max |diff|:");
                for (Map.Entry<String, Tensor> e : seen.entrySet()) {
                    Tensor expected = ref32.read(name + "." + e.getKey());
                    Tensor actual = e.getValue().dim() == expected.dim() ? e.getValue() : e.getValue().unsqueeze(0);
                    double diff = maxAbsDiff(actual, expected);
                    report.append(String.format(" %s=%.2e", e.getKey(), diff));
                    assertTrue(diff < ATOL, name + "." + e.getKey() + " differs by " + diff);
                }
                Tensor logits = f32.logits(hidden);
                double logitDiff = maxAbsDiff(logits, ref32.read(name + ".logits"));
                report.append(String.format(" logits=%.2e", logitDiff));
                assertTrue(logitDiff < ATOL, name + " logits differ by " + logitDiff);
                double lpDiff = maxAbsDiff(continuationLogProbs(logits, c), ref32.read(name + ".continuation_logprobs"));
                report.append(String.format(" continuation_logprobs=%.2e", lpDiff));
                assertTrue(lpDiff < ATOL, name + " continuation log-probs differ by " + lpDiff);
                System.out.println(report);
            }
        }
    }

    /** log_softmax(logits[P-1+j])[ids[P+j]] for the continuation tokens. */
    static Tensor continuationLogProbs(Tensor logits, Case c) {
        long l = c.inputIds().size(1), p = c.promptLength();
        Tensor lp = torch.log_softmax(logits.select(0, 0).narrow(0, p - 1, l - p), 1);
        Tensor targets = c.inputIds().select(0, 0).narrow(0, p, l - p).unsqueeze(1);
        return lp.gather(1, targets).squeeze(1);
    }

    @Test
    void greedyDecodingWithTheKvCacheMatches() throws IOException {
        for (String name : CASES) {
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                Case c = Case.of(name);
                long[] expectedTokens = longs(ref32.read(name + ".greedy_tokens"));
                Tensor expectedLogits = ref32.read(name + ".greedy_logits");
                long[] positions = longs(ref32.read(name + ".greedy_position_ids"));
                int p = c.promptLength(), total = p + 8;
                Tensor images = f32.encodeImages(c.pixelValues(), c.grid());
                QwenVlModel.Prefill prefill = f32.prefill(c.promptIds(), null, images, c.gridRows(), p + 7);
                QwenDecodeState state = prefill.state();
                Tensor logits = prefill.logits();
                double worst = 0;
                for (int step = 0; step < 8; step++) {
                    // the next token's position on all axes is the reference's (t, h, w) id at P + step
                    for (int a = 0; a < 3; a++) {
                        assertEquals(positions[a * total + p + step], state.nextPositions()[0], name + " step " + step);
                    }
                    long token = logits.argmax(new LongOptional(1), false).item_long();
                    assertEquals(expectedTokens[step], token, name + " greedy token " + step);
                    double diff = maxAbsDiff(logits.select(0, 0), expectedLogits.select(0, step));
                    worst = Math.max(worst, diff);
                    assertTrue(diff < ATOL, name + " greedy logits of step " + step + " differ by " + diff);
                    if (step < 7) {
                        logits = f32.decode(state, new long[] {token});
                    }
                }
                assertEquals(p + 7, state.length());
                System.out.printf("%s greedy: 8/8 tokens equal, max |logit diff| %.2e%n", name, worst);
            }
        }
    }

    @Test
    void generatorGreedyMatchesSinglyAndBatched() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            List<QwenPrompt> prompts = new ArrayList<>();
            List<long[]> expected = new ArrayList<>();
            List<Tensor> expectedLogits = new ArrayList<>();
            for (String name : CASES) {
                Case c = Case.of(name);
                prompts.add(new QwenPrompt(longs(c.promptIds()), floats(c.pixelValues()), c.gridRows()));
                expected.add(longs(ref32.read(name + ".greedy_tokens")));
                expectedLogits.add(ref32.read(name + ".greedy_logits"));
            }
            QwenGenerator generator = new QwenGenerator(f32);
            for (List<Integer> batch : List.of(List.of(0), List.of(1), List.of(0, 1), List.of(1, 0))) {
                List<QwenPrompt> chosen = batch.stream().map(prompts::get).toList();
                GeneratedResponses out = generator.generate(chosen, 1, SamplingConfig.greedy(8), new int[0]);
                for (int row = 0; row < batch.size(); row++) {
                    int i = batch.get(row);
                    assertArrayEquals(expected.get(i), java.util.Arrays.stream(out.tokens()[row]).asLongStream().toArray(),
                            "prompt " + i + " in batch " + batch);
                    assertTrue(out.truncated()[row]);
                    Tensor lp = torch.log_softmax(expectedLogits.get(i), 1)
                            .gather(1, QwenTensors.longs(expected.get(i), f32.device(), 8, 1)).squeeze(1);
                    double diff = maxAbsDiff(QwenTensors.floats(out.logProbs()[row], f32.device(), 8), lp);
                    assertTrue(diff < ATOL, "log-probs of prompt " + i + " in batch " + batch + " differ by " + diff);
                }
            }
            // the first greedy token of case1 (761) as a stop token ends that response after one token
            GeneratedResponses stopped = generator.generate(prompts.subList(0, 1), 1, SamplingConfig.greedy(8),
                    new int[] {(int) expected.get(0)[0]});
            assertArrayEquals(new int[] {(int) expected.get(0)[0]}, stopped.tokens()[0]);
            assertFalse(stopped.truncated()[0]);
        }
    }

    @Test
    void paddedBatchesGiveEachSequenceItsOwnLogits() throws IOException {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Case a = Case.of("case1"), b = Case.of("case2");
            long la = a.inputIds().size(1), lb = b.inputIds().size(1), pad = lb - la;
            Tensor pixels = torch.cat(new TensorVector(a.pixelValues(), b.pixelValues()), 0);
            Tensor grid = torch.cat(new TensorVector(a.grid(), b.grid()), 0);
            Tensor padding = torch.full(new long[] {1, pad}, new org.bytedeco.pytorch.Scalar(1000L),
                    new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long));
            Tensor zeros = torch.zeros(1, pad).to(torch.ScalarType.Long), ones = torch.ones(1, la).to(torch.ScalarType.Long);
            for (boolean left : new boolean[] {false, true}) {
                Tensor rowA = left ? torch.cat(new TensorVector(padding, a.inputIds()), 1) : torch.cat(new TensorVector(a.inputIds(), padding), 1);
                Tensor maskA = left ? torch.cat(new TensorVector(zeros, ones), 1) : torch.cat(new TensorVector(ones, zeros), 1);
                Tensor ids = torch.cat(new TensorVector(rowA, b.inputIds()), 0);
                Tensor mask = torch.cat(new TensorVector(maskA, torch.ones(1, lb).to(torch.ScalarType.Long)), 0);
                Tensor logits = f32.logits(f32.forward(ids, mask, pixels, grid));
                Tensor realA = logits.select(0, 0).narrow(0, left ? pad : 0, la);
                double da = maxAbsDiff(realA, ref32.read("case1.logits").select(0, 0));
                double db = maxAbsDiff(logits.select(0, 1), ref32.read("case2.logits").select(0, 0));
                assertTrue(da < ATOL && db < ATOL, (left ? "left" : "right") + " padding: case1 " + da + ", case2 " + db);
            }
        }
    }

    @Test
    void bf16WeightsUpcastMatchTheirReferences() throws IOException {
        for (String name : CASES) {
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                Case c = Case.of(name); // pixel values of float32/: the same images
                assertTrue(torch.equal(c.inputIds(), ref16.read(name + ".input_ids")));
                Map<String, Tensor> seen = new LinkedHashMap<>();
                Tensor logits = bf16.logits(bf16.forward(c.inputIds(), null, c.pixelValues(), c.grid(), (n, t) -> seen.put(n, t)));
                double vision = maxAbsDiff(seen.get("vision.output"), ref16.read(name + ".vision.output"));
                long p = c.promptLength(), l = c.inputIds().size(1);
                double tail = maxAbsDiff(logits.narrow(1, p - 1, l - p + 1), ref16.read(name + ".logits_tail"));
                double lp = maxAbsDiff(continuationLogProbs(logits, c), ref16.read(name + ".continuation_logprobs"));
                assertTrue(vision < ATOL && tail < ATOL && lp < ATOL,
                        name + " bf16: vision " + vision + ", logits tail " + tail + ", log-probs " + lp);
                // greedy with the cache
                QwenVlModel.Prefill prefill = bf16.prefill(c.promptIds(), null, seen.get("vision.output"), c.gridRows(), (int) p + 7);
                long[] expectedTokens = longs(ref16.read(name + ".greedy_tokens"));
                Tensor expectedLogits = ref16.read(name + ".greedy_logits");
                Tensor step = prefill.logits();
                double worst = 0;
                for (int s = 0; s < 8; s++) {
                    long token = step.argmax(new LongOptional(1), false).item_long();
                    assertEquals(expectedTokens[s], token, name + " bf16 greedy token " + s);
                    worst = Math.max(worst, maxAbsDiff(step.select(0, 0), expectedLogits.select(0, s)));
                    if (s < 7) {
                        step = bf16.decode(prefill.state(), new long[] {token});
                    }
                }
                assertTrue(worst < ATOL, name + " bf16 greedy logits differ by " + worst);
                System.out.printf("%s bf16: vision %.2e, logits tail %.2e, log-probs %.2e, greedy logits %.2e%n",
                        name, vision, tail, lp, worst);
            }
        }
    }

    @Test
    void imagesEncodeTheSameTogetherOrApart() throws IOException {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Case c = Case.of("case2");
            Tensor together = f32.encodeImages(c.pixelValues(), c.grid());
            Tensor first = f32.encodeImages(ref32.read("image_b.pixel_values"), ref32.read("image_b.image_grid_thw"));
            Tensor second = f32.encodeImages(ref32.read("image_c.pixel_values"), ref32.read("image_c.image_grid_thw"));
            double diff = maxAbsDiff(together, torch.cat(new TensorVector(first, second), 0));
            assertTrue(diff < 1e-5, "encoding images together vs apart differs by " + diff);
        }
    }
}
