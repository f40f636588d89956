package io.vlmrl.model;

import io.vlmrl.policy.SamplingConfig;
import org.bytedeco.pytorch.Tensor;

/**
 * Sampled responses of one batch, right-padded to T = the longest response.
 *
 * @param responseIds  [B, T] int64; the end token is part of a response; padId after it
 * @param logProbs     [B, T] float32 behaviour log-probs of each sampled token (see {@link SamplingConfig#temperature()}); 0 at padding
 * @param responseMask [B, T] float32, 1 for response tokens (the end token included), 0 for padding
 * @param lengths      tokens per response (= row sums of the mask), each >= 1
 * @param truncated    true where a response reached maxNewTokens without the end token
 * @param tokens       the same ids as Java arrays, one row per response of exactly {@code lengths[b]} tokens
 * @param tokenLogProbs the same log-probs as Java arrays, like {@code tokens}
 */
public record GenerationResult(Tensor responseIds, Tensor logProbs, Tensor responseMask,
                               int[] lengths, boolean[] truncated, int[][] tokens, float[][] tokenLogProbs) {

    public int batchSize() {
        return lengths.length;
    }

    /** T, the padded response length. */
    public int maxLength() {
        return (int) responseIds.size(1);
    }
}
