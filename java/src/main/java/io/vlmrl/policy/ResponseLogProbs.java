package io.vlmrl.policy;

import io.vlmrl.kernels.KernelsConfig;
import io.vlmrl.kernels.LmHeadLogProbs;
import io.vlmrl.kernels.LogProbs;
import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TensorChecks;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Scores responses under a policy: the token log-probs (and entropies) of
 * {@code softmax(logits / T)}, without gradients, by the implementation {@code kernels.*}
 * selects. The trainer records its old and reference log-probs with it, and a {@code score}
 * command can call {@link #score} as it is.
 *
 * <p>With {@link KernelsConfig#usesFusedLmHead()} (the default) the log-probs come from
 * {@link Policy#responseHidden} and {@link Policy#lmHeadWeight} through {@link LmHeadLogProbs},
 * chunk by chunk, and the [B, T, V] logits never exist; otherwise from
 * {@link Policy#responseLogits} through {@link LogProbs#compute} (the logits path). Both mean
 * the same numbers: same temperature, same entropy definition.
 *
 * <p>Native memory: the returned tensors are new and owned by the caller's {@code PointerScope}.
 */
public final class ResponseLogProbs {
    private ResponseLogProbs() {
    }

    /**
     * Token log-probs and entropies, detached.
     *
     * @param logp    [B, T] float32
     * @param entropy [B, T] float32, or null when not asked for
     */
    public record Scores(Tensor logp, Tensor entropy) {
    }

    /**
     * Scores {@code responseIds} given {@code prompts} under {@code policy} (no gradients).
     *
     * @param responseIds [B, T] int64, right-padded; padding positions get values too (mask them)
     * @param temperature T &gt; 0, the sampling temperature
     */
    public static Scores score(Policy policy, List<EncodedPrompt> prompts, Tensor responseIds, double temperature,
                               boolean withEntropy, KernelsConfig kernels) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            if (kernels.usesFusedLmHead()) {
                Tensor hidden = policy.responseHidden(prompts, responseIds);
                Tensor weight = lmHeadWeight(policy, hidden);
                LmHeadLogProbs lp = LmHeadLogProbs.forward(hidden, weight, responseIds, temperature, withEntropy,
                        chunkTokens(kernels, weight, responseIds.size(1)), NonFinitePolicy.ERROR);
                return new Scores(lp.logp(), lp.entropy());
            }
            Tensor logits = policy.responseLogits(prompts, responseIds);
            LogProbs lp = LogProbs.compute(kernels.backend(), logits, responseIds, temperature, withEntropy);
            return new Scores(lp.logp(), lp.entropy());
        }
    }

    /**
     * The policy's LM head in the dtype of its hidden states, as {@link Policy#responseLogits}
     * multiplies them: a policy whose parameters are bfloat16 may return float32 hidden states
     * (Qwen does), and then the product is float32 on a float32 copy of W (which joins autograd
     * through the cast, so the parameter still gets its gradient).
     */
    public static Tensor lmHeadWeight(Policy policy, Tensor hidden) {
        Tensor weight = policy.lmHeadWeight();
        return weight.scalar_type() == hidden.scalar_type() ? weight : weight.to(hidden.scalar_type());
    }

    /**
     * The fused LM head's chunk for [B, T] responses: {@code kernels.lm_head_chunk_tokens} (or the
     * default for W's vocabulary and dtype) rounded down to whole responses (at least one), so a
     * chunk is a set of rows whose policy loss can be computed on its own, and the training
     * forward and the scoring forward use the same chunks (the same products, bit for bit).
     */
    public static long chunkTokens(KernelsConfig kernels, Tensor lmHeadWeight, long responseLength) {
        long tokens = kernels.lmHeadChunkTokens() > 0 ? kernels.lmHeadChunkTokens()
                : LmHeadLogProbs.defaultChunkTokens(lmHeadWeight.size(0), TensorChecks.dtype(lmHeadWeight));
        long t = Math.max(1, responseLength);
        return Math.max(1, tokens / t) * t;
    }
}
