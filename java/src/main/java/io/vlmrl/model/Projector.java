package io.vlmrl.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Patch merger (Qwen2-VL's {@code merger}): LayerNorm, then every {@code m x m} window of
 * neighbouring patches is concatenated ({@code m² * visionWidth} features) and an MLP
 * (Linear, GELU, Linear) maps it to the language model's width.
 *
 * <p>[B, g*g, visionWidth] -> [B, (g/m)², hiddenSize]; merged tokens are in raster order of windows.
 */
public final class Projector extends Module {
    private final int grid, merge;
    private final LayerNorm norm;
    private final Linear fc1, fc2;
    private final Module mlp; // container, kept reachable: its C++ side calls back into Java

    Projector(VlmConfig config, Init init) {
        grid = config.gridSize();
        merge = config.mergeSize();
        long merged = (long) merge * merge * config.visionWidth();
        norm = register_module("ln_q", new LayerNorm(config.visionWidth(), init));
        mlp = register_module("mlp", new Module());
        fc1 = mlp.register_module("0", new Linear(merged, merged, true, init, config.initStd()));
        fc2 = mlp.register_module("2", new Linear(merged, config.hiddenSize(), true, init, config.initStd()));
    }

    public Tensor forward(Tensor patches) {
        long b = patches.size(0), width = patches.size(2);
        long cells = grid / merge;
        Tensor x = norm.forward(patches)
                .view(b, cells, merge, cells, merge, width)     // [B, row-window, row-in, col-window, col-in, w]
                .permute(0, 1, 3, 2, 4, 5)                        // [B, row-window, col-window, row-in, col-in, w]
                .reshape(b, cells * cells, (long) merge * merge * width);
        return fc2.forward(torch.gelu(fc1.forward(x)));
    }
}
