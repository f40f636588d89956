package io.vlmrl.model;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The vision transformer: pixels [B, C, H, W] in [0, 1] -> patch features [B, N, visionWidth],
 * N = (H / patchSize)², patches in raster order (row by row).
 *
 * <p>Normalise with the configured per-channel mean/std, embed non-overlapping patches with a
 * stride-{@code patchSize} convolution (no bias, as Qwen2-VL), add learned positions or rotate
 * queries/keys with 2-D RoPE, then pre-norm blocks of bidirectional attention and a GELU MLP. There
 * is no final norm here: the {@link Projector} starts with one.
 */
public final class VisionEncoder extends Module {
    private final VlmConfig config;
    private final Tensor patchWeight;     // [width, C, patch, patch]
    private final Tensor positionTable;   // [N, width], null with rope2d
    private final float[] mean, std;
    private final VisionBlock[] blocks;
    // Plain Module containers created from Java must stay reachable from a Java field: their
    // C++ side calls back into the Java object (e.g. Module.train), which the GC would free.
    private final Module patchEmbed, blockList;

    VisionEncoder(VlmConfig config, Init init) {
        this.config = config;
        int width = config.visionWidth();
        patchEmbed = register_module("patch_embed", new Module());
        patchWeight = Tensors.parameter(patchEmbed, "weight",
                init.normal(config.initStd(), width, config.channels(), config.patchSize(), config.patchSize()));
        positionTable = VlmConfig.POSITIONS_LEARNED.equals(config.visionPositions())
                ? Tensors.parameter(this, "pos_embed", init.normal(config.initStd(), config.numPatches(), width))
                : null;
        mean = new float[config.channels()];
        std = new float[config.channels()];
        for (int c = 0; c < mean.length; c++) {
            mean[c] = config.pixelMean().get(c).floatValue();
            std[c] = config.pixelStd().get(c).floatValue();
        }
        blockList = register_module("blocks", new Module());
        blocks = new VisionBlock[config.visionLayers()];
        double residualStd = config.initStd() / Math.sqrt(2.0 * config.visionLayers());
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = blockList.register_module(Integer.toString(i), new VisionBlock(config, init, residualStd));
        }
    }

    /** pixels [B, C, H, W] float in [0, 1] -> [B, N, visionWidth]. */
    public Tensor forward(Tensor pixels) {
        checkPixels(pixels);
        long b = pixels.size(0);
        int p = config.patchSize();
        Tensor meanT = Tensors.floats(mean, pixels.device(), 1, mean.length, 1, 1);
        Tensor stdT = Tensors.floats(std, pixels.device(), 1, std.length, 1, 1);
        Tensor x = pixels.to(torch.ScalarType.Float).sub(meanT).div(stdT);
        x = torch.conv2d(x, patchWeight, new TensorOptional(), new long[] {p, p}, new long[] {0, 0},
                new long[] {1, 1}, 1);                                   // [B, width, g, g]
        x = x.flatten(2, 3).transpose(1, 2);                             // [B, N, width]
        Tensor cos = null, sin = null;
        if (positionTable != null) {
            x = x.add(positionTable);
        } else {
            Tensor[] cs = Rotary.cosSin2d(config.gridSize(), config.visionHeadDim(), 10000.0, pixels.device());
            cos = cs[0];
            sin = cs[1];
        }
        for (VisionBlock block : blocks) {
            x = block.forward(x, cos, sin);
        }
        return x;
    }

    private void checkPixels(Tensor pixels) {
        String layout = "[B, " + config.channels() + ", " + config.imageSize() + ", " + config.imageSize() + "]";
        Tensors.requireDims("pixels", pixels, 4, layout);
        if (pixels.size(1) != config.channels() || pixels.size(2) != config.imageSize()
                || pixels.size(3) != config.imageSize()) {
            throw new IllegalArgumentException("pixels must be " + layout + ", got shape "
                    + java.util.Arrays.toString(Tensors.shape(pixels)));
        }
    }

    /** Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)). */
    static final class VisionBlock extends Module {
        private final int heads;
        private final LayerNorm norm1, norm2;
        private final Linear qkv, proj, fc1, fc2;
        private final Module attn, mlp; // containers, kept reachable (see VisionEncoder)

        VisionBlock(VlmConfig config, Init init, double residualStd) {
            int width = config.visionWidth();
            heads = config.visionHeads();
            norm1 = register_module("norm1", new LayerNorm(width, init));
            attn = register_module("attn", new Module());
            qkv = attn.register_module("qkv", new Linear(width, 3L * width, true, init, config.initStd()));
            proj = attn.register_module("proj", new Linear(width, width, true, init, residualStd));
            norm2 = register_module("norm2", new LayerNorm(width, init));
            mlp = register_module("mlp", new Module());
            fc1 = mlp.register_module("fc1", new Linear(width, config.visionMlpHidden(), true, init, config.initStd()));
            fc2 = mlp.register_module("fc2", new Linear(config.visionMlpHidden(), width, true, init, residualStd));
        }

        /** x [B, N, width]; cos/sin [N, headDim] or null (no rotary). */
        Tensor forward(Tensor x, Tensor cos, Tensor sin) {
            long b = x.size(0), n = x.size(1), width = x.size(2);
            long headDim = width / heads;
            Tensor qkvOut = qkv.forward(norm1.forward(x)).view(b, n, 3, heads, headDim).permute(2, 0, 3, 1, 4);
            Tensor q = qkvOut.select(0, 0), k = qkvOut.select(0, 1), v = qkvOut.select(0, 2); // [B, H, N, hd]
            if (cos != null) {
                q = Rotary.apply(q, cos, sin);
                k = Rotary.apply(k, cos, sin);
            }
            Tensor attnOut = torch.scaled_dot_product_attention(q, k, v);
            x = x.add(proj.forward(attnOut.transpose(1, 2).reshape(b, n, width)));
            return x.add(fc2.forward(torch.gelu(fc1.forward(norm2.forward(x)))));
        }
    }
}
