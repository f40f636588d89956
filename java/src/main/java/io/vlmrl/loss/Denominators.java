package io.vlmrl.loss;

import io.vlmrl.kernels.TensorChecks;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Mini-batch denominators of the aggregation modes (docs/algorithms.md, "Loss aggregation").
 * They come from the masks of the <em>whole mini-batch</em>, so summing the loss and the
 * gradients of its micro-batches gives exactly the mini-batch's:
 * <pre>{@code
 * Denominators d = Denominators.of(microMasks);          // once per mini-batch
 * for (...) PolicyLoss.compute(inputs.denominators(d)..., cfg);
 * }</pre>
 *
 * @param tokens valid tokens (token-mean)
 * @param nonEmptyResponses responses with at least one valid token (seq-mean-*)
 * @param responses all responses, empty ones included (seq-mean-token-sum-norm)
 * @param maxLength L_max of seq-mean-token-sum-norm: the longest mask row (padded T) unless
 *        set with {@link #withMaxLength}, e.g. to the configured maximum response length
 */
public record Denominators(long tokens, long nonEmptyResponses, long responses, long maxLength) {

    public Denominators {
        if (tokens < 0 || nonEmptyResponses < 0 || responses < 0 || maxLength < 0) {
            throw new IllegalArgumentException("Denominators: expected counts >= 0, got tokens " + tokens
                    + ", nonEmptyResponses " + nonEmptyResponses + ", responses " + responses
                    + ", maxLength " + maxLength);
        }
    }

    /** The denominators of the mini-batch made of these [B_i, T_i] masks (bool or 0/1). */
    public static Denominators of(Tensor... masks) {
        return of(Arrays.asList(masks));
    }

    /** The denominators of the mini-batch made of these [B_i, T_i] masks (bool or 0/1). */
    public static Denominators of(List<Tensor> masks) {
        long tokens = 0;
        long nonEmpty = 0;
        long responses = 0;
        long maxLength = 0;
        for (int i = 0; i < masks.size(); i++) {
            Tensor mask = TensorChecks.requireNonNull("masks[" + i + "]", masks.get(i));
            TensorChecks.requireDim("masks[" + i + "]", mask, 2, "[B, T]");
            Tensor perRow = mask.ne(new Scalar(0)).sum(new long[] {1}, false,
                    new org.bytedeco.pytorch.ScalarTypeOptional());
            tokens += perRow.sum().item_long();
            nonEmpty += perRow.gt(new Scalar(0)).sum().item_long();
            responses += mask.size(0);
            maxLength = Math.max(maxLength, mask.size(1));
        }
        return new Denominators(tokens, nonEmpty, responses, maxLength);
    }

    /** The same counts with L_max replaced (e.g. by the configured maximum response length). */
    public Denominators withMaxLength(long newMaxLength) {
        return new Denominators(tokens, nonEmptyResponses, responses, newMaxLength);
    }

    /**
     * The denominator of {@code mode}, at least 1 (an all-empty mini-batch then has loss 0 and
     * zero gradients instead of 0 / 0).
     */
    public double forMode(Aggregation mode) {
        long d;
        switch (mode) {
            case TOKEN_MEAN: d = tokens; break;
            case SEQ_MEAN_TOKEN_SUM:
            case SEQ_MEAN_TOKEN_MEAN: d = nonEmptyResponses; break;
            case SEQ_MEAN_TOKEN_SUM_NORM: d = responses * maxLength; break;
            default: throw new IllegalArgumentException("mode: unknown aggregation " + mode);
        }
        return Math.max(1, d);
    }
}
