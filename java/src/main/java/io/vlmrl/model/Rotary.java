package io.vlmrl.model;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embeddings in the Hugging Face "rotate half" layout: the first half of each head
 * is paired with the second half, {@code x * cos + rotateHalf(x) * sin}, with
 * {@code cos = cos(cat(f, f))} for the frequencies {@code f} of each position.
 */
final class Rotary {
    private Rotary() {
    }

    /** {@code 1 / theta^(2i / dim)} for i in [0, dim/2). */
    static float[] inverseFrequencies(int dim, double theta) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / dim));
        }
        return inv;
    }

    /** Positions [B, L] (int64) -> {cos, sin}, each [B, 1, L, headDim], ready to broadcast over heads. */
    static Tensor[] cosSin1d(Tensor positions, int headDim, double theta) {
        float[] inv = inverseFrequencies(headDim, theta);
        Tensor invFreq = Tensors.floats(inv, positions.device(), inv.length);
        Tensor freqs = positions.to(torch.ScalarType.Float).unsqueeze(-1).mul(invFreq); // [B, L, hd/2]
        Tensor emb = torch.cat(new TensorVector(freqs, freqs), -1).unsqueeze(1);
        return new Tensor[] {emb.cos(), emb.sin()};
    }

    /**
     * 2-D positions of a raster grid of patches (Qwen2-VL vision rotary): the first half of the
     * rotated frequencies follows the row, the second half the column. Returns {cos, sin}, each
     * [N, headDim] with N = grid².
     */
    static Tensor[] cosSin2d(int grid, int headDim, double theta, Device device) {
        float[] inv = inverseFrequencies(headDim / 2, theta); // headDim/4 frequencies per axis
        int quarter = inv.length;
        int n = grid * grid;
        float[] emb = new float[n * headDim];
        for (int p = 0; p < n; p++) {
            int row = p / grid, col = p % grid;
            for (int i = 0; i < quarter; i++) {
                float fr = row * inv[i], fc = col * inv[i];
                // [row freqs, col freqs] repeated twice: cat(f, f) with f = cat(row, col)
                emb[p * headDim + i] = fr;
                emb[p * headDim + quarter + i] = fc;
                emb[p * headDim + 2 * quarter + i] = fr;
                emb[p * headDim + 3 * quarter + i] = fc;
            }
        }
        Tensor e = Tensors.floats(emb, device, n, headDim);
        return new Tensor[] {e.cos(), e.sin()};
    }

    /** x [..., L, headDim] rotated by cos/sin broadcastable to x. */
    static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        return x.mul(cos).add(rotateHalf(x).mul(sin));
    }

    private static Tensor rotateHalf(Tensor x) {
        long half = x.size(-1) / 2;
        Tensor x1 = x.narrow(-1, 0, half);
        Tensor x2 = x.narrow(-1, half, half);
        return torch.cat(new TensorVector(x2.neg(), x1), -1);
    }
}
