package io.vlmrl.qwen;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/**
 * The activation functions named by {@code hidden_act} in Qwen vision configs, as transformers'
 * {@code ACT2FN} defines them: {@code silu}; {@code gelu} (exact, erf); {@code gelu_pytorch_tanh}
 * (tanh approximation); {@code quick_gelu} ({@code x · sigmoid(1.702 x)}, Qwen2-VL's vision MLP).
 */
final class QwenActivation {
    static final List<String> KNOWN = List.of("silu", "gelu", "gelu_pytorch_tanh", "quick_gelu");

    private QwenActivation() {
    }

    static boolean isKnown(String name) {
        return KNOWN.contains(name);
    }

    static Tensor apply(String name, Tensor x) {
        switch (name) {
            case "silu":
                return torch.silu(x);
            case "gelu":
                return torch.gelu(x);
            case "gelu_pytorch_tanh":
                return torch.gelu(x, "tanh");
            case "quick_gelu":
                return x.mul(torch.sigmoid(x.mul(new Scalar(1.702))));
            default:
                throw new IllegalArgumentException("unsupported activation \"" + name + "\" (" + KNOWN + ")");
        }
    }
}
