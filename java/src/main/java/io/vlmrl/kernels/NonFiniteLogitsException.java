package io.vlmrl.kernels;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A row of logits holds a NaN or +Inf, or only -Inf (no distribution), under
 * {@link NonFinitePolicy#ERROR}. A subtype of {@link IllegalArgumentException} (bad input to the
 * op) that callers can tell apart from other bad input: a trainer treats it as divergence.
 */
public final class NonFiniteLogitsException extends IllegalArgumentException {
    private NonFiniteLogitsException(String message) {
        super(message);
    }

    /**
     * "logits[1, 3, 42] is NaN" (or "..., :] are all -Infinity") for row {@code row} of logits
     * shaped {@code rowShape + [V]}; {@code how} is inserted after the element's index to say how
     * the logit was made ("" for given logits, " = hidden[1, 3, :] · lmHeadWeight[42, :]" style text
     * for the fused LM head, see {@link Formula}).
     */
    static NonFiniteLogitsException ofRow(Tensor logitsRow, long row, long[] rowShape, Formula how) {
        String index = TensorChecks.index(row, rowShape);
        String prefix = index.substring(0, index.length() - 1);
        Tensor values = logitsRow.to(ScalarType.Float);
        Tensor bad = values.isnan().logical_or(values.eq(new Scalar(Double.POSITIVE_INFINITY)));
        if (bad.any().item_bool()) {
            long col = torch.nonzero(bad).get(0).item_long();
            return new NonFiniteLogitsException("logits" + prefix + ", " + col + "]" + how.element(prefix, col)
                    + " is " + TensorChecks.describe(values.get(col).item_double()));
        }
        return new NonFiniteLogitsException("logits" + prefix + ", :]" + how.row(prefix)
                + " are all -Infinity (no distribution)");
    }

    /** How a logit was computed, for the message. */
    enum Formula {
        /** Logits given to the op. */
        GIVEN,
        /** Logits of the fused LM head: hidden · lmHeadWeightᵀ. */
        LM_HEAD;

        String element(String prefix, long col) {
            return this == GIVEN ? "" : " = hidden" + prefix + ", :] · lmHeadWeight[" + col + ", :]";
        }

        String row(String prefix) {
            return this == GIVEN ? "" : " = hidden" + prefix + ", :] · lmHeadWeightᵀ";
        }
    }
}
