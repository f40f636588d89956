package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;

/**
 * M-RoPE position ids (t, h, w) of token sequences with images: transformers' {@code get_rope_index}
 * for images, in exact integer arithmetic.
 *
 * <p>Per row, only attended tokens count (padding gets position 1 on every axis, as in
 * transformers, and is never attended). Text tokens have t = h = w = a running index. The
 * {@code <|image_pad|>} run of an image with grid (t, h, w) and merge size m gets
 * (t', row, col) + start for t' &lt; t, row &lt; h/m, col &lt; w/m, where start is the position the
 * run's first token would have as text; t' is 0 for every frame of a Qwen2.5-VL image (time scales
 * with the seconds per frame, 0 for images) and the frame index in Qwen2-VL. Text after an image
 * resumes at (largest position so far) + 1, not at its index in the sequence.
 *
 * <p>The rope delta of a row is {@code max position + 1 - L} (L = the row's padded length); when
 * decoding after a left-padded prompt of length L, the token at cache position c has position
 * c + delta on all three axes, i.e. {@link Result#nextPositions()} and up.
 */
public final class QwenRopeIndex {
    private QwenRopeIndex() {
    }

    /**
     * Positions of a batch.
     *
     * @param positions [3][B][L]: t, h, w of every token
     * @param deltas    [B]: max position + 1 - L per row
     */
    public record Result(long[][][] positions, long[] deltas) {
        public int batch() {
            return deltas.length;
        }

        public int length() {
            return positions[0][0].length;
        }

        /** Position of the first token after each row: max position + 1 = L + delta. */
        public long[] nextPositions() {
            long[] next = new long[deltas.length];
            for (int b = 0; b < next.length; b++) {
                next[b] = length() + deltas[b];
            }
            return next;
        }

        /** The positions as an int64 tensor [3, B, L] on {@code device}. */
        public Tensor toTensor(Device device) {
            int b = batch(), l = length();
            long[] flat = new long[3 * b * l];
            for (int a = 0; a < 3; a++) {
                for (int i = 0; i < b; i++) {
                    System.arraycopy(positions[a][i], 0, flat, (a * b + i) * l, l);
                }
            }
            return QwenTensors.longs(flat, device, 3, b, l);
        }
    }

    /**
     * Computes positions and deltas.
     *
     * @param ids     [B][L] token ids with each image's placeholder run already expanded
     * @param mask    [B][L] true for attended tokens, or null for all
     * @param gridThw (t, h, w) of every image in row-major order of appearance (row 0's images first)
     * @throws IllegalArgumentException if an image's placeholder run does not match its grid, or the
     *                                  number of images does not match {@code gridThw}
     */
    public static Result compute(QwenVlConfig config, long[][] ids, boolean[][] mask, long[][] gridThw) {
        int b = ids.length;
        if (b == 0) {
            throw new IllegalArgumentException("ids must have at least one row");
        }
        int l = ids[0].length;
        long[][][] positions = new long[3][b][l];
        long[] deltas = new long[b];
        long[][] grids = gridThw == null ? new long[0][] : gridThw;
        int merge = config.vision().spatialMergeSize();
        int image = 0;
        for (int row = 0; row < b; row++) {
            if (ids[row].length != l || (mask != null && mask[row].length != l)) {
                throw new IllegalArgumentException("ids and mask must be [B][L] with L = " + l + ", row " + row + " has "
                        + ids[row].length + (mask == null ? "" : " / " + mask[row].length));
            }
            int[] index = new int[l]; // sequence index of each attended token
            int n = 0;
            for (int j = 0; j < l; j++) {
                if (mask == null || mask[row][j]) {
                    index[n++] = j;
                }
            }
            long[][] pos = new long[3][n];
            int st = 0;
            long next = 0; // max position so far + 1
            for (int j = 0; j < n; j++) {
                long id = ids[row][index[j]];
                if (id == config.videoTokenId() && j > 0 && ids[row][index[j - 1]] == config.visionStartTokenId()) {
                    throw new IllegalArgumentException("row " + row + " holds a video (token " + id + " at " + index[j]
                            + "); only images are supported");
                }
                if (id != config.imageTokenId() || j < st) {
                    continue;
                }
                if (image >= grids.length) {
                    throw new IllegalArgumentException("row " + row + " has more images than the " + grids.length
                            + " grids given (image placeholder at position " + index[j] + ")");
                }
                long[] g = grids[image];
                long gt = g[0], gh = g[1] / merge, gw = g[2] / merge;
                int tokens = Math.toIntExact(gt * gh * gw);
                for (int k = 0; k < tokens; k++) {
                    if (j + k >= n || ids[row][index[j + k]] != config.imageTokenId()) {
                        throw new IllegalArgumentException("row " + row + ": image " + image + " with grid " + Arrays.toString(g)
                                + " needs " + tokens + " consecutive image tokens (" + config.imageTokenId() + ") from position "
                                + index[j] + ", found only " + k);
                    }
                }
                for (int k = st; k < j; k++) { // text before the image
                    long p = next + (k - st);
                    pos[0][k] = pos[1][k] = pos[2][k] = p;
                }
                long start = next + (j - st);
                long max = start - 1;
                int k = j;
                for (long t = 0; t < gt; t++) {
                    long tPos = config.isQwen25() ? 0 : t; // images: seconds per grid = 0 in Qwen2.5-VL
                    for (long r = 0; r < gh; r++) {
                        for (long c = 0; c < gw; c++) {
                            pos[0][k] = start + tPos;
                            pos[1][k] = start + r;
                            pos[2][k] = start + c;
                            max = Math.max(max, Math.max(pos[0][k], Math.max(pos[1][k], pos[2][k])));
                            k++;
                        }
                    }
                }
                next = max + 1;
                st = j + tokens;
                image++;
            }
            for (int k = st; k < n; k++) { // trailing text
                long p = next + (k - st);
                pos[0][k] = pos[1][k] = pos[2][k] = p;
            }
            long max = -1;
            for (int a = 0; a < 3; a++) {
                Arrays.fill(positions[a][row], 1L);
                for (int k = 0; k < n; k++) {
                    positions[a][row][index[k]] = pos[a][k];
                    max = Math.max(max, pos[a][k]);
                }
            }
            deltas[row] = max + 1 - l;
        }
        if (image != grids.length) {
            throw new IllegalArgumentException("gridThw has " + grids.length + " images but the ids hold " + image);
        }
        return new Result(positions, deltas);
    }
}
