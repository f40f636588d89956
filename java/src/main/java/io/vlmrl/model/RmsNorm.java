package io.vlmrl.model;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** RMSNorm over the last dimension: {@code x / sqrt(mean(x^2) + eps) * weight}. */
final class RmsNorm extends Module {
    final Tensor weight;
    private final long dim;
    private final double eps;

    RmsNorm(long dim, double eps, Init init) {
        this.dim = dim;
        this.eps = eps;
        weight = Tensors.parameter(this, "weight", init.ones(dim));
    }

    Tensor forward(Tensor x) {
        return torch.rms_norm(x, new long[] {dim}, new TensorOptional(weight), new DoubleOptional(eps));
    }
}
