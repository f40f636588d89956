package io.vlmrl.qwen;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Normalisation over the last dimension, as in transformers' Qwen code:
 * <ul>
 *   <li>RMSNorm ({@code Qwen2RMSNorm}): {@code weight · (x / sqrt(mean(x²) + eps))}, the statistics
 *       in float32 and the normalised value cast back to the input dtype before the weight (not
 *       {@code 1 + weight});</li>
 *   <li>LayerNorm (Qwen2-VL's vision tower): weight and bias, eps as given.</li>
 * </ul>
 */
final class QwenNorm extends Module {
    final Tensor weight;
    final Tensor bias; // LayerNorm only
    private final long dim;
    private final double eps;

    private QwenNorm(long dim, double eps, boolean layerNorm) {
        this.dim = dim;
        this.eps = eps;
        weight = QwenTensors.parameter(this, "weight", dim);
        bias = layerNorm ? QwenTensors.parameter(this, "bias", dim) : null;
    }

    static QwenNorm rms(long dim, double eps) {
        return new QwenNorm(dim, eps, false);
    }

    static QwenNorm layer(long dim, double eps) {
        return new QwenNorm(dim, eps, true);
    }

    Tensor forward(Tensor x) {
        if (bias != null) {
            return torch.layer_norm(x, new long[] {dim}, new TensorOptional(weight), new TensorOptional(bias), eps, false);
        }
        torch.ScalarType dtype = x.scalar_type();
        Tensor normed = torch.rms_norm(x.to(torch.ScalarType.Float), new long[] {dim}, new TensorOptional(),
                new DoubleOptional(eps));
        return weight.mul(normed.to(dtype));
    }
}
