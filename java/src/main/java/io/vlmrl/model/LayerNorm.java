package io.vlmrl.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** LayerNorm over the last dimension with weight and bias (the vision tower's norm, as in Qwen2-VL). */
final class LayerNorm extends Module {
    private static final double EPS = 1e-6;
    final Tensor weight;
    final Tensor bias;
    private final long dim;

    LayerNorm(long dim, Init init) {
        this.dim = dim;
        weight = Tensors.parameter(this, "weight", init.ones(dim));
        bias = Tensors.parameter(this, "bias", init.zeros(dim));
    }

    Tensor forward(Tensor x) {
        return torch.layer_norm(x, new long[] {dim}, new TensorOptional(weight), new TensorOptional(bias), EPS, false);
    }
}
