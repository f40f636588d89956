package io.vlmrl.qwen;

import java.util.Arrays;

/**
 * One prompt for {@link QwenGenerator}, in Java memory only (so it can be kept across steps and
 * owns no native memory): token ids with every image's {@code <|image_pad|>} run already expanded
 * to its t·h·w / m² tokens, the images' {@code pixel_values} rows concatenated (row-major
 * [numPatches, C·T·P·P]), and their grids in order.
 *
 * @param ids         prompt token ids (no padding)
 * @param pixelValues Σ t·h·w rows of C·T·P·P values, or an empty array for a text-only prompt
 * @param gridThw     (t, h, w) of each image, in order of appearance (empty for text only)
 */
public record QwenPrompt(long[] ids, float[] pixelValues, long[][] gridThw) {

    public QwenPrompt {
        if (ids == null || ids.length == 0) {
            throw new IllegalArgumentException("ids must hold at least one token");
        }
        ids = ids.clone();
        pixelValues = pixelValues == null ? new float[0] : pixelValues.clone();
        long[][] grids = gridThw == null ? new long[0][] : new long[gridThw.length][];
        long patches = 0;
        for (int i = 0; i < grids.length; i++) {
            if (gridThw[i] == null || gridThw[i].length != 3) {
                throw new IllegalArgumentException("gridThw[" + i + "] must be (t, h, w), got " + Arrays.toString(gridThw[i]));
            }
            grids[i] = gridThw[i].clone();
            patches += grids[i][0] * grids[i][1] * grids[i][2];
        }
        gridThw = grids;
        if ((patches == 0) != (pixelValues.length == 0) || (patches > 0 && pixelValues.length % patches != 0)) {
            throw new IllegalArgumentException("pixelValues must hold a whole row for each of the " + patches
                    + " patches of gridThw, got " + pixelValues.length + " values");
        }
    }

    /** Number of patches (rows of pixel values). */
    public long numPatches() {
        long n = 0;
        for (long[] g : gridThw) {
            n += g[0] * g[1] * g[2];
        }
        return n;
    }

    /** Positions the prompt takes in the model's sequence. */
    public int length() {
        return ids.length;
    }

    @Override
    public long[] ids() {
        return ids.clone();
    }

    /** The pixel values themselves (not a copy, as they can be large): do not modify them. */
    @Override
    public float[] pixelValues() {
        return pixelValues;
    }

    @Override
    public long[][] gridThw() {
        long[][] copy = new long[gridThw.length][];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = gridThw[i].clone();
        }
        return copy;
    }
}
