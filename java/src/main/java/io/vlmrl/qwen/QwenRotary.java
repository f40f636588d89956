package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/**
 * Rotary position embeddings of Qwen-VL, in the "rotate half" layout of transformers: a head
 * vector x is rotated as {@code x·cos + rotateHalf(x)·sin} with {@code cos = cos(cat(f, f))}, f
 * being the frequencies of its position(s).
 *
 * <ul>
 *   <li>Vision (2-D): per patch, f = [row · inv | col · inv] over head_dim / 2 frequencies, with
 *       inv = 1 / 10000^(2i / (head_dim / 2)).</li>
 *   <li>Language (M-RoPE): each token has three positions (t, h, w); f_j = pos · inv_j with
 *       inv_j = 1 / theta^(2j / head_dim), and {@code mrope_section} [s_t, s_h, s_w] says which
 *       position feeds which frequencies. The section split applies to both halves of cat(f, f),
 *       i.e. columns are [t·s_t, h·s_h, w·s_w, t·s_t, h·s_h, w·s_w].</li>
 * </ul>
 * Frequencies are computed with the same float32 LibTorch operations as transformers
 * ({@code 1.0 / base ** (arange(0, dim, 2) / dim)}, then a float32 product), so the angles agree
 * bit for bit.
 */
final class QwenRotary {
    private QwenRotary() {
    }

    /** {@code 1 / theta^(arange(0, dim, 2) / dim)} in float32: [dim / 2]. */
    static Tensor inverseFrequencies(int dim, double theta, Device device) {
        Tensor exponents = torch.arange(new Scalar(0), new Scalar(dim), new Scalar(2)).to(torch.ScalarType.Float)
                .div(new Scalar((double) dim));
        return torch.pow(new Scalar(theta), exponents).reciprocal().to(device, torch.ScalarType.Float);
    }

    /**
     * Vision rotary angles [N, headDim / 2]: row then column frequencies of each patch
     * ({@code rot_pos_emb} of transformers).
     */
    static Tensor visionAngles(long[] rows, long[] cols, int headDim, Device device) {
        Tensor inv = inverseFrequencies(headDim / 2, 10000.0, device);                 // [hd / 4]
        Tensor r = QwenTensors.longs(rows, device, rows.length, 1).to(torch.ScalarType.Float);
        Tensor c = QwenTensors.longs(cols, device, cols.length, 1).to(torch.ScalarType.Float);
        return torch.cat(new TensorVector(r.mul(inv), c.mul(inv)), 1);
    }

    /** {cos, sin} [N, headDim] of vision angles [N, headDim / 2]. */
    static Tensor[] cosSin(Tensor angles) {
        Tensor emb = torch.cat(new TensorVector(angles, angles), -1);
        return new Tensor[] {emb.cos(), emb.sin()};
    }

    /**
     * M-RoPE {cos, sin}, each [B, 1, L, headDim] (ready to broadcast over heads), from positions
     * [3, B, L] (int64: t, h, w).
     */
    static Tensor[] mropeCosSin(Tensor positions, int headDim, double theta, List<Integer> section) {
        Device device = positions.device();
        int half = headDim / 2;
        long[] axis = new long[headDim];
        long[] frequency = new long[headDim];
        for (int c = 0; c < headDim; c++) {
            int j = c % half;
            int a = j < section.get(0) ? 0 : j < section.get(0) + section.get(1) ? 1 : 2;
            axis[c] = a;
            frequency[c] = j;
        }
        Tensor inv = inverseFrequencies(headDim, theta, device)
                .index_select(0, QwenTensors.longs(frequency, device, headDim));            // [hd]
        Tensor perColumn = positions.to(torch.ScalarType.Float)
                .index_select(0, QwenTensors.longs(axis, device, headDim))                  // [hd, B, L]
                .permute(1, 2, 0);                                                          // [B, L, hd]
        Tensor freqs = perColumn.mul(inv).unsqueeze(1);                                    // [B, 1, L, hd]
        return new Tensor[] {freqs.cos(), freqs.sin()};
    }

    /** x [..., headDim] rotated by cos/sin broadcastable to x (computed in x's dtype). */
    static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        return x.mul(cos).add(rotateHalf(x).mul(sin));
    }

    private static Tensor rotateHalf(Tensor x) {
        long half = x.size(-1) / 2;
        return torch.cat(new TensorVector(x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)), -1);
    }
}
