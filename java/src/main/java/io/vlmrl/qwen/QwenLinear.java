package io.vlmrl.qwen;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code y = x Wᵀ + b}: parameters {@code weight} [out, in] and, optionally, {@code bias} [out] (zeros until loaded). */
final class QwenLinear extends Module {
    final Tensor weight;
    final Tensor bias; // null without bias

    QwenLinear(long in, long out, boolean withBias) {
        weight = QwenTensors.parameter(this, "weight", out, in);
        bias = withBias ? QwenTensors.parameter(this, "bias", out) : null;
    }

    /** x [..., in] -> [..., out]. */
    Tensor forward(Tensor x) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }
}
