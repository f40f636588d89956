package io.vlmrl.qwen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where the patches of a batch of images sit, as transformers' vision tower computes it from
 * {@code grid_thw} (pure integer arithmetic, exact):
 *
 * <ul>
 *   <li>{@link #rows()} / {@link #cols()}: each patch's (row, column) in its image, in
 *       {@code pixel_values} row order, which is (t, h / m, w / m, m, m): every m×m merge group is
 *       contiguous. The vision 2-D rotary angles follow from them.</li>
 *   <li>{@link #cuSeqlens()}: patch boundaries of each image frame; blocks in
 *       {@code fullatt_block_indexes} (every block in Qwen2-VL) attend within these.</li>
 *   <li>Qwen2.5-VL windows ({@link #windowIndex()}, {@link #cuWindowSeqlens()}): the merged-token grid
 *       of each frame is cut into windows of {@code window_size / m / patch_size} merged tokens a side,
 *       after padding by {@code ws - n % ws} (a whole empty window row/column when n is divisible;
 *       transformers' rule); tokens are permuted window by window (row-major inside each window),
 *       and the other blocks attend within windows. Empty windows are dropped
 *       ({@code unique_consecutive}).</li>
 * </ul>
 */
public final class QwenVisionGeometry {
    private final long[] rows, cols;
    private final int[] cuSeqlens;
    private final long[] windowIndex;     // null without windows
    private final int[] cuWindowSeqlens;  // null without windows
    private final int mergeUnit;

    private QwenVisionGeometry(long[] rows, long[] cols, int[] cuSeqlens, long[] windowIndex, int[] cuWindowSeqlens,
                               int mergeUnit) {
        this.rows = rows;
        this.cols = cols;
        this.cuSeqlens = cuSeqlens;
        this.windowIndex = windowIndex;
        this.cuWindowSeqlens = cuWindowSeqlens;
        this.mergeUnit = mergeUnit;
    }

    /**
     * The geometry of images with grids {@code gridThw} (rows of (t, h, w) in patches) for this
     * vision config. IllegalArgumentException unless every t, h, w is positive and h, w are
     * multiples of the merge size.
     */
    public static QwenVisionGeometry of(QwenVlConfig.Vision config, long[][] gridThw) {
        int m = config.spatialMergeSize();
        long total = 0;
        for (int i = 0; i < gridThw.length; i++) {
            long[] g = gridThw[i];
            if (g.length != 3 || g[0] < 1 || g[1] < 1 || g[2] < 1 || g[1] % m != 0 || g[2] % m != 0) {
                throw new IllegalArgumentException("gridThw row " + i + " must be (t, h, w) > 0 with h and w multiples of "
                        + "spatial_merge_size " + m + ", got " + Arrays.toString(g));
            }
            total += g[0] * g[1] * g[2];
        }
        int n = Math.toIntExact(total);
        long[] rows = new long[n], cols = new long[n];
        List<Integer> cu = new ArrayList<>();
        cu.add(0);
        int p = 0;
        for (long[] g : gridThw) {
            for (long t = 0; t < g[0]; t++) {
                for (long bh = 0; bh < g[1] / m; bh++) {
                    for (long bw = 0; bw < g[2] / m; bw++) {
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < m; j++) {
                                rows[p] = bh * m + i;
                                cols[p] = bw * m + j;
                                p++;
                            }
                        }
                    }
                }
                cu.add(Math.toIntExact(cu.get(cu.size() - 1) + g[1] * g[2]));
            }
        }
        int[] cuSeqlens = cu.stream().mapToInt(Integer::intValue).toArray();
        if (!config.windowed()) {
            return new QwenVisionGeometry(rows, cols, cuSeqlens, null, null, config.mergeUnit());
        }
        int ws = config.windowSize() / m / config.patchSize();
        long[] windowIndex = new long[n / config.mergeUnit()];
        List<Integer> cuWindow = new ArrayList<>();
        cuWindow.add(0);
        int w = 0;
        long offset = 0;
        for (long[] g : gridThw) {
            long lh = g[1] / m, lw = g[2] / m;
            long padH = ws - lh % ws, padW = ws - lw % ws;
            long windowsH = (lh + padH) / ws, windowsW = (lw + padW) / ws;
            for (long t = 0; t < g[0]; t++) {
                for (long wy = 0; wy < windowsH; wy++) {
                    for (long wx = 0; wx < windowsW; wx++) {
                        int count = 0;
                        for (long y = wy * ws; y < (wy + 1) * ws; y++) {
                            for (long x = wx * ws; x < (wx + 1) * ws; x++) {
                                if (y < lh && x < lw) {
                                    windowIndex[w++] = offset + t * lh * lw + y * lw + x;
                                    count++;
                                }
                            }
                        }
                        int end = cuWindow.get(cuWindow.size() - 1) + count * config.mergeUnit();
                        if (end != cuWindow.get(cuWindow.size() - 1)) { // unique_consecutive: drop empty windows
                            cuWindow.add(end);
                        }
                    }
                }
            }
            offset += g[0] * lh * lw;
        }
        return new QwenVisionGeometry(rows, cols, cuSeqlens, windowIndex,
                cuWindow.stream().mapToInt(Integer::intValue).toArray(), config.mergeUnit());
    }

    /** Number of patches (rows of {@code pixel_values}). */
    public int numPatches() {
        return rows.length;
    }

    /** Number of merged tokens (LLM image tokens). */
    public int numTokens() {
        return rows.length / mergeUnit;
    }

    /** Row of each patch in its image. */
    public long[] rows() {
        return rows.clone();
    }

    /** Column of each patch in its image. */
    public long[] cols() {
        return cols.clone();
    }

    /** Boundaries of image frames in patches, starting at 0. */
    public int[] cuSeqlens() {
        return cuSeqlens.clone();
    }

    /** True when there are attention windows (Qwen2.5-VL). */
    public boolean hasWindows() {
        return windowIndex != null;
    }

    /** Merged-token permutation into window order (Qwen2.5-VL), or null. */
    public long[] windowIndex() {
        return windowIndex == null ? null : windowIndex.clone();
    }

    /** The inverse permutation ({@code argsort(window_index)}), or null. */
    public long[] reverseWindowIndex() {
        if (windowIndex == null) {
            return null;
        }
        long[] reverse = new long[windowIndex.length];
        for (int i = 0; i < windowIndex.length; i++) {
            reverse[(int) windowIndex[i]] = i;
        }
        return reverse;
    }

    /** Window boundaries in patches (window order), starting at 0, empty windows dropped; or null. */
    public int[] cuWindowSeqlens() {
        return cuWindowSeqlens == null ? null : cuWindowSeqlens.clone();
    }
}
