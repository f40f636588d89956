package io.vlmrl.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code y = x W^T + b}: weight [out, in], optional bias [out] (parameter names as in Hugging Face). */
final class Linear extends Module {
    final Tensor weight;
    final Tensor bias; // null without bias

    Linear(long in, long out, boolean withBias, Init init, double std) {
        weight = Tensors.parameter(this, "weight", init.normal(std, out, in));
        bias = withBias ? Tensors.parameter(this, "bias", init.zeros(out)) : null;
    }

    /** x [..., in] -> [..., out]. */
    Tensor forward(Tensor x) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }
}
