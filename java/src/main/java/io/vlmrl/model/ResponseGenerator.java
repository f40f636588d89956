package io.vlmrl.model;

import io.vlmrl.nn.KvCache;
import io.vlmrl.policy.NonFiniteException;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.policy.SamplingStreams;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.SplittableRandom;

/**
 * Batched sampling with a KV cache.
 *
 * <p>The prompt batch (left-padded, see {@link VisionLanguageModel}) is run once to fill the cache;
 * then each step feeds one token per sequence. A sequence stops at the end token (kept as the last
 * response token) or after {@code maxNewTokens}; finished sequences are fed padding until every
 * sequence has stopped. Token choice happens in Java with one random stream per sequence, split from
 * the seed, so results are reproducible and a sequence's samples do not depend on when the others stop.
 *
 * <p>Runs without gradients; native temporaries of each step are freed at the end of the step.
 */
public final class ResponseGenerator {
    private final VisionLanguageModel model;

    public ResponseGenerator(VisionLanguageModel model) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        this.model = model;
    }

    /**
     * Samples one response per prompt.
     *
     * @param pixels     [B, C, H, W] in [0, 1], or null for text-only prompts
     * @param promptIds  [B, P] int64, left-padded
     * @param promptMask [B, P] nonzero for real tokens, or null for {@code promptIds != padId}
     */
    public GenerationResult generate(Tensor pixels, Tensor promptIds, Tensor promptMask, SamplingConfig sampling) {
        return generate(pixels, promptIds, promptMask, sampling, null);
    }

    /**
     * Samples one response per prompt, row i drawing from {@code streams[i]} (null: streams split
     * from {@code sampling.seed()}, {@link SamplingStreams#of}).
     */
    public GenerationResult generate(Tensor pixels, Tensor promptIds, Tensor promptMask, SamplingConfig sampling,
                                     SplittableRandom[] streams) {
        return generate(pixels, promptIds, promptMask, sampling, streams, 1);
    }

    /**
     * Samples {@code rowsPerPrompt} responses per prompt from one prefill of each prompt (its image
     * encoded and its tokens run once, the cache then repeated): rows p·G .. p·G + G - 1 of the
     * result are prompt p's, row r drawing from {@code streams[r]}. The same samples as repeating
     * each prompt G times in the input.
     */
    public GenerationResult generate(Tensor pixels, Tensor promptIds, Tensor promptMask, SamplingConfig sampling,
                                     SplittableRandom[] streams, int rowsPerPrompt) {
        if (rowsPerPrompt < 1) throw new IllegalArgumentException("rowsPerPrompt: expected >= 1, got " + rowsPerPrompt);
        VlmConfig config = model.config();
        LanguageModel lm = model.languageModel();
        Device device = model.device();
        int maxNew = sampling.maxNewTokens();
        int b;
        int[][] tokens;
        float[][] logProbs;
        int[] lengths;
        boolean[] finished;
        try (PointerScope outer = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            VisionLanguageModel.Prompt prompt = model.embedPrompt(pixels, promptIds, promptMask);
            int prompts = (int) prompt.embeds().size(0);
            int g = rowsPerPrompt;
            b = prompts * g;
            int promptLength = (int) prompt.length();
            int capacity = promptLength + maxNew - 1;
            if (promptLength + maxNew > config.maxSeqLen()) {
                throw new IllegalArgumentException("prompt length " + promptLength + " (with image tokens) + maxNewTokens "
                        + maxNew + " must be <= maxSeqLen " + config.maxSeqLen());
            }
            // Prefill: each prompt once, then its cache, key mask and last hidden state repeated G times.
            KvCache cache = new KvCache(config.numLayers(), prompts, config.numKvHeads(), capacity, config.headDim(), device,
                    torch.ScalarType.Float);
            Tensor keyValid = torch.zeros(prompts, capacity).to(device, torch.ScalarType.Bool);
            keyValid.narrow(1, 0, promptLength).copy_(prompt.valid());
            Tensor prefillHidden = lm.forward(prompt.embeds(), VisionLanguageModel.positionsOf(prompt.valid()),
                    VisionLanguageModel.causalMask(prompt.valid()), cache).select(1, promptLength - 1);
            long[] realPromptTokens = new long[b];
            for (int r = 0; r < b; r++) realPromptTokens[r] = prompt.validCounts()[r / g];
            if (g > 1) {
                cache = cache.repeatRows(g);
                keyValid = keyValid.repeat_interleave(g, new LongOptional(0), new LongOptional());
                prefillHidden = prefillHidden.repeat_interleave(g, new LongOptional(0), new LongOptional());
            }

            SplittableRandom[] random = streams == null ? SamplingStreams.of(sampling.seed(), b) : streams;
            if (random.length != b) {
                throw new IllegalArgumentException("streams: expected one per row (" + b + "), got " + random.length);
            }
            tokens = new int[b][maxNew];
            logProbs = new float[b][maxNew];
            lengths = new int[b];
            finished = new boolean[b];
            int[] previous = new int[b];
            for (int step = 0; step < maxNew; step++) {
                try (PointerScope stepScope = new PointerScope()) {
                    Tensor hidden;
                    if (step == 0) {
                        hidden = prefillHidden;
                    } else {
                        int at = cache.length();
                        long[] ids = new long[b];
                        long[] positions = new long[b];
                        for (int i = 0; i < b; i++) {
                            ids[i] = finished[i] ? config.padId() : previous[i];
                            positions[i] = realPromptTokens[i] + step - 1;
                        }
                        keyValid.narrow(1, at, 1).fill_(new Scalar(1));
                        Tensor mask = keyValid.narrow(1, 0, at + 1).view(b, 1, 1, at + 1);
                        Tensor embeds = lm.embed(Tensors.longs(ids, device, b, 1));
                        hidden = lm.forward(embeds, Tensors.longs(positions, device, b, 1), mask, cache).select(1, 0);
                    }
                    Choice choice = choose(lm.logits(hidden), sampling, random, finished);
                    for (int i = 0; i < b; i++) {
                        if (finished[i]) {
                            continue;
                        }
                        tokens[i][step] = choice.tokens[i];
                        logProbs[i][step] = choice.logProbs[i];
                        lengths[i] = step + 1;
                        previous[i] = choice.tokens[i];
                        finished[i] = choice.tokens[i] == config.eosId();
                    }
                }
                if (allTrue(finished)) {
                    break;
                }
            }
        }
        return assemble(b, tokens, logProbs, lengths, finished, config.padId(), device);
    }

    private record Choice(int[] tokens, float[] logProbs) {
    }

    /** Picks one token per unfinished row from logits [B, V] and returns it with its log-prob. */
    private static Choice choose(Tensor logits, SamplingConfig s, SplittableRandom[] random, boolean[] finished) {
        int b = (int) logits.size(0), v = (int) logits.size(1);
        Tensor scaled = logits.to(torch.ScalarType.Float).div(new Scalar(s.temperature()));
        Tensor logp = torch.log_softmax(scaled, 1);
        int[] chosen = new int[b];
        if (s.greedy()) {
            long[] argmax = Tensors.toLongs(scaled.argmax(new LongOptional(1), false));
            for (int i = 0; i < b; i++) {
                chosen[i] = (int) argmax[i];
            }
        } else {
            float[] probs = Tensors.toFloats(torch.softmax(truncate(scaled, s.topK(), s.topP()), 1));
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
        for (int i = 0; i < b; i++) {
            if (!finished[i] && chosen[i] < 0) throw new NonFiniteException("the policy's logits while sampling");
        }
        float[] lp = Tensors.toFloats(logp.gather(1, Tensors.longs(index, logits.device(), b, 1)));
        for (int i = 0; i < b; i++) {
            // A finite distribution gives every sampled (or greedy) token a finite log-prob.
            if (!finished[i] && !Float.isFinite(lp[i])) throw new NonFiniteException("the policy's logits while sampling");
        }
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
            // Keep the smallest prefix whose mass reaches topP (the most likely token always stays).
            Tensor dropSorted = massBefore.ge(new Scalar(topP));
            Tensor drop = torch.zeros_like(dropSorted).scatter(1, order, dropSorted);
            out = out.masked_fill(drop, minusInf);
        }
        return out;
    }

    /** Inverse-CDF draw from probs[offset .. offset+v). */
    private static int sampleRow(float[] probs, int offset, int v, SplittableRandom random) {
        double total = 0;
        for (int j = 0; j < v; j++) {
            total += probs[offset + j];
        }
        double u = random.nextDouble() * total;
        double cumulative = 0;
        int last = -1;
        for (int j = 0; j < v; j++) {
            float p = probs[offset + j];
            if (p > 0) {
                cumulative += p;
                last = j;
                if (u < cumulative) {
                    return j;
                }
            }
        }
        return last; // rounding left u at the very top: take the last possible token
    }

    private static GenerationResult assemble(int b, int[][] tokens, float[][] logProbs, int[] lengths,
                                             boolean[] finished, int padId, Device device) {
        int t = 0;
        for (int length : lengths) {
            t = Math.max(t, length);
        }
        long[] ids = new long[b * t];
        float[] lp = new float[b * t];
        float[] mask = new float[b * t];
        int[][] rows = new int[b][];
        float[][] rowLogProbs = new float[b][];
        boolean[] truncated = new boolean[b];
        for (int i = 0; i < b; i++) {
            rows[i] = java.util.Arrays.copyOf(tokens[i], lengths[i]);
            rowLogProbs[i] = java.util.Arrays.copyOf(logProbs[i], lengths[i]);
            truncated[i] = !finished[i];
            for (int j = 0; j < t; j++) {
                boolean real = j < lengths[i];
                ids[i * t + j] = real ? tokens[i][j] : padId;
                lp[i * t + j] = real ? logProbs[i][j] : 0f;
                mask[i * t + j] = real ? 1f : 0f;
            }
        }
        return new GenerationResult(Tensors.longs(ids, device, b, t), Tensors.floats(lp, device, b, t),
                Tensors.floats(mask, device, b, t), lengths, truncated, rows, rowLogProbs);
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
