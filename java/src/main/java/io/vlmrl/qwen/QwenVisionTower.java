package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;

/**
 * The vision tower ({@code visual.*}): {@code pixel_values} [N, C·T·P·P] of one or more images ->
 * image token embeddings [N / m², LM hidden size], in image order.
 *
 * <ol>
 *   <li>Patch embedding: the Conv3d of transformers (kernel = stride = (T, P, P), no bias) is a
 *       matrix product of each flattened patch with the flattened kernel
 *       ({@code visual.patch_embed.proj.weight} [width, C, T, P, P]).</li>
 *   <li>2-D rotary angles per patch ({@link QwenVisionGeometry}, {@link QwenRotary}).</li>
 *   <li>Qwen2.5-VL: patches (in groups of m²) and angles are permuted into window order; blocks in
 *       {@code fullatt_block_indexes} attend within each image frame ({@code cu_seqlens}), the others
 *       within windows. Qwen2-VL: every block attends within each image frame. Attention never
 *       crosses images, so images can be encoded together or one by one with the same result.</li>
 *   <li>The {@link QwenPatchMerger}; in Qwen2.5-VL its output is permuted back to image order.</li>
 * </ol>
 * Run it once per image and share the output among all sequences that show the image.
 */
public final class QwenVisionTower extends Module {
    private final QwenVlConfig.Vision config;
    private final Tensor patchWeight; // [width, C, T, P, P]
    private final QwenVisionBlock[] blocks;
    private final QwenPatchMerger merger;
    private final Module patchEmbed, patchProj, blockList; // containers, kept reachable (see QwenVisionBlock)

    QwenVisionTower(QwenVlConfig.Vision config) {
        this.config = config;
        patchEmbed = register_module("patch_embed", new Module());
        patchProj = patchEmbed.register_module("proj", new Module());
        patchWeight = QwenTensors.parameter(patchProj, "weight", config.width(), config.inChannels(),
                config.temporalPatchSize(), config.patchSize(), config.patchSize());
        blockList = register_module("blocks", new Module());
        blocks = new QwenVisionBlock[config.depth()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = blockList.register_module(Integer.toString(i), new QwenVisionBlock(config));
        }
        merger = register_module("merger", new QwenPatchMerger(config));
    }

    public QwenVlConfig.Vision config() {
        return config;
    }

    /**
     * Encodes images.
     *
     * @param pixelValues [N, C·T·P·P] as the Qwen image processor makes them (rows in
     *                    (t, h/m, w/m, m, m) order, images concatenated)
     * @param gridThw     (t, h, w) in patches of each image, in the order of {@code pixelValues}
     * @param probe       receives intermediates (see {@link QwenProbe}), or null
     * @return [N / m², outHiddenSize], the image tokens of every image in order
     */
    public Tensor forward(Tensor pixelValues, long[][] gridThw, QwenProbe probe) {
        QwenTensors.requireDims("pixelValues", pixelValues, 2, "[numPatches, " + config.patchValues() + "]");
        QwenVisionGeometry geometry = QwenVisionGeometry.of(config, gridThw);
        if (pixelValues.size(0) != geometry.numPatches() || pixelValues.size(1) != config.patchValues()) {
            throw new IllegalArgumentException("pixelValues must be [" + geometry.numPatches() + ", " + config.patchValues()
                    + "] for gridThw " + Arrays.deepToString(gridThw) + ", got " + Arrays.toString(QwenTensors.shape(pixelValues)));
        }
        Device device = patchWeight.device();
        long n = geometry.numPatches(), unit = config.mergeUnit();
        Tensor x = torch.linear(pixelValues.to(device, patchWeight.scalar_type()), patchWeight.view(config.width(), -1));
        QwenProbe.record(probe, "vision.patch_embed_out", x);
        Tensor angles = QwenRotary.visionAngles(geometry.rows(), geometry.cols(), config.headDim(), device);
        QwenSegmentAttention full = QwenSegmentAttention.of(geometry.cuSeqlens(), device);
        QwenSegmentAttention windows = null;
        Tensor order = null;
        if (geometry.hasWindows()) {
            order = QwenTensors.longs(geometry.windowIndex(), device, n / unit);
            x = x.view(n / unit, unit, -1).index_select(0, order).view(n, -1);
            angles = angles.view(n / unit, unit, -1).index_select(0, order).view(n, -1);
            windows = QwenSegmentAttention.of(geometry.cuWindowSeqlens(), device);
        }
        Tensor[] cs = QwenRotary.cosSin(angles); // float32, as transformers
        for (int i = 0; i < blocks.length; i++) {
            x = blocks[i].forward(x, cs[0], cs[1], config.isFullAttention(i) ? full : windows);
            QwenProbe.record(probe, "vision.block_out." + i, x);
        }
        Tensor merged = merger.forward(x);
        if (order != null) {
            QwenProbe.record(probe, "vision.merger_out_window_order", merged);
            merged = merged.index_select(0, QwenTensors.longs(geometry.reverseWindowIndex(), device, n / unit));
        }
        QwenProbe.record(probe, "vision.output", merged);
        return merged;
    }
}
