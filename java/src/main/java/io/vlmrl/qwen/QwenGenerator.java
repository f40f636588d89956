package io.vlmrl.qwen;

import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.policy.SamplingStreams;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Batched sampling from a {@link QwenVlModel} with a KV cache, G samples per prompt from a single
 * prefill per prompt.
 *
 * <ol>
 *   <li>The images of all prompts go through the vision tower together, once.</li>
 *   <li>The prompts are left-padded to a common length and prefilled once
 *       ({@link QwenVlModel#prefill}); the cache is then repeated to G rows per prompt
 *       ({@link QwenDecodeState#repeatRows}).</li>
 *   <li>Each step picks one token per row (greedy, or temperature / top-k / top-p sampling), then
 *       feeds it ({@link QwenVlModel#decode}). A row stops after a stop token (kept as its last
 *       token) or after {@code maxNewTokens}; stopped rows are fed their last token again until
 *       every row has stopped (their outputs are ignored).</li>
 * </ol>
 * Token choice is made in Java with one random stream per row split from the seed, so the same
 * seed, weights and prompts give the same samples, and a row's samples do not depend on when the
 * others stop. The recorded log-prob of a token is {@code log_softmax(logits / temperature)} over
 * the whole vocabulary (before top-k / top-p), as {@link SamplingConfig} specifies.
 *
 * <p>Runs without gradients; native memory of a call is freed when it returns.
 */
public final class QwenGenerator {
    private final QwenVlModel model;

    public QwenGenerator(QwenVlModel model) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        this.model = model;
    }

    /**
     * Samples {@code samplesPerPrompt} responses per prompt: row {@code p · samplesPerPrompt + i} is
     * sample i of prompt p.
     *
     * @param stopIds tokens that end a response (e.g. {@code <|im_end|>}, {@code <|endoftext|>})
     */
    public GeneratedResponses generate(List<QwenPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling,
                                       int[] stopIds) {
        return generate(prompts, samplesPerPrompt, sampling, stopIds, null);
    }

    /**
     * {@link #generate(List, int, SamplingConfig, int[])} with row i drawing from {@code streams[i]}
     * (null: streams split from {@code sampling.seed()}, {@link SamplingStreams#of}).
     */
    public GeneratedResponses generate(List<QwenPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling,
                                       int[] stopIds, SplittableRandom[] streams) {
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts must not be empty");
        }
        if (samplesPerPrompt < 1) {
            throw new IllegalArgumentException("samplesPerPrompt must be >= 1, got " + samplesPerPrompt);
        }
        int p = prompts.size(), g = samplesPerPrompt, rows = p * g, maxNew = sampling.maxNewTokens();
        int[][] tokens = new int[rows][maxNew];
        float[][] logProbs = new float[rows][maxNew];
        int[] lengths = new int[rows];
        boolean[] finished = new boolean[rows];
        try (PointerScope outer = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            QwenPromptBatch batch = QwenPromptBatch.of(prompts, model);
            int maxLen = batch.length();
            QwenVlModel.Prefill prefill = model.prefill(batch.ids(), batch.mask(), batch.imageEmbeds(), batch.grids(),
                    maxLen + maxNew - 1);
            QwenDecodeState state = g == 1 ? prefill.state() : prefill.state().repeatRows(g);
            Tensor firstLogits = g == 1 ? prefill.logits()
                    : prefill.logits().repeat_interleave(g, new LongOptional(0), new LongOptional());

            SplittableRandom[] random = streams == null ? SamplingStreams.of(sampling.seed(), rows) : streams;
            if (random.length != rows) {
                throw new IllegalArgumentException("streams: expected one per row (" + rows + "), got " + random.length);
            }
            long[] feed = new long[rows];
            for (int step = 0; step < maxNew; step++) {
                try (PointerScope stepScope = new PointerScope()) {
                    Tensor logits = step == 0 ? firstLogits : model.decode(state, feed);
                    Choice choice = choose(logits, sampling, random, finished);
                    for (int i = 0; i < rows; i++) {
                        if (finished[i]) {
                            continue;
                        }
                        tokens[i][step] = choice.tokens[i];
                        logProbs[i][step] = choice.logProbs[i];
                        lengths[i] = step + 1;
                        feed[i] = choice.tokens[i];
                        finished[i] = contains(stopIds, choice.tokens[i]);
                    }
                }
                if (allTrue(finished)) {
                    break;
                }
            }
        }
        int[][] outTokens = new int[rows][];
        float[][] outLogProbs = new float[rows][];
        boolean[] truncated = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            outTokens[i] = java.util.Arrays.copyOf(tokens[i], lengths[i]);
            outLogProbs[i] = java.util.Arrays.copyOf(logProbs[i], lengths[i]);
            truncated[i] = !finished[i];
        }
        return new GeneratedResponses(outTokens, outLogProbs, truncated);
    }

    private record Choice(int[] tokens, float[] logProbs) {
    }

    /** One token per unfinished row from logits [B, V], with its log-prob at the sampling temperature. */
    private static Choice choose(Tensor logits, SamplingConfig s, SplittableRandom[] random, boolean[] finished) {
        int b = (int) logits.size(0), v = (int) logits.size(1);
        Tensor scaled = logits.to(torch.ScalarType.Float).div(new Scalar(s.temperature()));
        int[] chosen = new int[b];
        if (s.greedy()) {
            long[] argmax = QwenTensors.toLongs(scaled.argmax(new LongOptional(1), false));
            for (int i = 0; i < b; i++) {
                chosen[i] = (int) argmax[i];
            }
        } else {
            float[] probs = QwenTensors.toFloats(torch.softmax(truncate(scaled, s.topK(), s.topP()), 1));
            for (int i = 0; i < b; i++) {
                if (!finished[i]) {
                    chosen[i] = sampleRow(probs, i * v, v, random[i]);
                }
            }
        }
        long[] index = new long[b];
        for (int i = 0; i < b; i++) {
            index[i] = chosen[i];
        }
        float[] lp = QwenTensors.toFloats(torch.log_softmax(scaled, 1).gather(1, QwenTensors.longs(index, logits.device(), b, 1)));
        return new Choice(chosen, lp);
    }

    /** Sets to -inf every logit outside the top-k and outside the top-p nucleus of its row. */
    static Tensor truncate(Tensor scaled, int topK, double topP) {
        Tensor out = scaled;
        Scalar minusInf = new Scalar(Float.NEGATIVE_INFINITY);
        if (topK > 0 && topK < scaled.size(1)) {
            T_TensorTensor_T top = out.topk(topK, 1, true, true);
            Tensor kth = new Tensor(top.get0()).narrow(1, topK - 1, 1);
            out = out.masked_fill(out.lt(kth), minusInf);
        }
        if (topP < 1.0) {
            T_TensorTensor_T sorted = out.sort(1, true);
            Tensor values = new Tensor(sorted.get0()), order = new Tensor(sorted.get1());
            Tensor probs = torch.softmax(values, 1);
            Tensor massBefore = probs.cumsum(1).sub(probs);
            // keep the smallest prefix whose mass reaches topP (the most likely token always stays)
            Tensor dropSorted = massBefore.ge(new Scalar(topP));
            Tensor drop = torch.zeros_like(dropSorted).scatter(1, order, dropSorted);
            out = out.masked_fill(drop, minusInf);
        }
        return out;
    }

    /** Inverse-CDF draw from probs[offset .. offset + v). */
    private static int sampleRow(float[] probs, int offset, int v, SplittableRandom random) {
        double total = 0;
        for (int j = 0; j < v; j++) {
            total += probs[offset + j];
        }
        double u = random.nextDouble() * total, cumulative = 0;
        int last = -1;
        for (int j = 0; j < v; j++) {
            float q = probs[offset + j];
            if (q > 0) {
                cumulative += q;
                last = j;
                if (u < cumulative) {
                    return j;
                }
            }
        }
        return last; // rounding left u at the very top: the last possible token
    }

    private static boolean contains(int[] values, int x) {
        if (values != null) {
            for (int v : values) {
                if (v == x) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean allTrue(boolean[] values) {
        for (boolean v : values) {
            if (!v) {
                return false;
            }
        }
        return true;
    }
}
