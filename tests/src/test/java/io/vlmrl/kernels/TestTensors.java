package io.vlmrl.kernels;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Small tensor helpers for the tests. */
public final class TestTensors {
    private TestTensors() {
    }

    /** A float64 tensor with the given values and shape. */
    public static Tensor doubles(double[] values, long... shape) {
        Tensor t = torch.empty(values.length).to(ScalarType.Double);
        t.data_ptr_double().put(values);
        return t.reshape(shape);
    }

    /** A float32 tensor with the given values and shape. */
    public static Tensor floats(double[] values, long... shape) {
        return doubles(values, shape).to(ScalarType.Float);
    }

    /** The values of a tensor as doubles (row-major). */
    public static double[] values(Tensor t) {
        Tensor d = t.detach().to(ScalarType.Double).contiguous().reshape(-1);
        double[] out = new double[(int) d.numel()];
        d.data_ptr_double().get(out);
        return out;
    }

    /** max |a - b| in float64. */
    public static double maxAbsDiff(Tensor a, Tensor b) {
        if (a.numel() == 0) {
            return 0;
        }
        return a.detach().to(ScalarType.Double).sub(b.detach().to(ScalarType.Double)).abs().max().item_double();
    }

    /** max |a| in float64. */
    public static double maxAbs(Tensor a) {
        return a.numel() == 0 ? 0 : a.detach().to(ScalarType.Double).abs().max().item_double();
    }

    /** Bitwise equality of two tensors (same dtype and values, NaN never equal). */
    public static boolean bitwiseEqual(Tensor a, Tensor b) {
        return torch.equal(a, b);
    }

    public static Scalar s(double v) {
        return new Scalar(v);
    }
}
