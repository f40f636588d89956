package io.vlmrl.loss;

import io.vlmrl.kernels.TensorChecks;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Turns a bool or 0/1 mask into a contiguous bool tensor, rejecting other values. A bool mask is
 * passed as is (no pass over it); a numeric one costs the conversion and the 0/1 check.
 */
final class MaskChecks {
    private MaskChecks() {
    }

    static Tensor asBool(Tensor mask) {
        if (TensorChecks.dtype(mask) == ScalarType.Bool) {
            return mask.contiguous();
        }
        Tensor nonZero = mask.ne(new Scalar(0));
        Tensor notBinary = nonZero.logical_and(mask.ne(new Scalar(1)));
        if (notBinary.any().item_bool()) {
            long bad = torch.nonzero(notBinary.reshape(-1)).get(0).item_long();
            throw new IllegalArgumentException("mask" + TensorChecks.index(bad, TensorChecks.sizes(mask))
                    + ": expected 0 or 1, got " + mask.reshape(-1).get(bad).item_double());
        }
        return nonZero;
    }
}
