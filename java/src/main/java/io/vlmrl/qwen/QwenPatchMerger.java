package io.vlmrl.qwen;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The patch merger: normalise each patch ({@code ln_q}: RMSNorm in Qwen2.5-VL, LayerNorm in
 * Qwen2-VL, eps 1e-6), concatenate each group of m×m consecutive patches (the rows of a merge group
 * are contiguous), then {@code mlp.0} Linear → exact (erf) GELU → {@code mlp.2} Linear to the LM's
 * hidden size. Parameter names follow the hub ({@code ln_q}, {@code mlp.0}, {@code mlp.2}).
 */
final class QwenPatchMerger extends Module {
    private final long groupWidth;
    private final QwenNorm lnQ;
    private final QwenLinear fc0, fc2;
    private final Module mlp; // container, kept reachable (see QwenVisionBlock)

    QwenPatchMerger(QwenVlConfig.Vision c) {
        groupWidth = (long) c.width() * c.mergeUnit();
        lnQ = register_module("ln_q", c.windowed() ? QwenNorm.rms(c.width(), 1e-6) : QwenNorm.layer(c.width(), 1e-6));
        mlp = register_module("mlp", new Module());
        fc0 = mlp.register_module("0", new QwenLinear(groupWidth, groupWidth, true));
        fc2 = mlp.register_module("2", new QwenLinear(groupWidth, c.outHiddenSize(), true));
    }

    /** x [N, width] -> [N / mergeUnit, outHiddenSize]. */
    Tensor forward(Tensor x) {
        Tensor grouped = lnQ.forward(x).reshape(-1, groupWidth);
        return fc2.forward(torch.gelu(fc0.forward(grouped)));
    }
}
