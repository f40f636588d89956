package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Bidirectional attention restricted to contiguous segments of a packed sequence (the
 * {@code cu_seqlens} of transformers' vision attention: each image frame, or each window).
 *
 * <p>Rather than a full N×N mask, the segments are gathered into a padded batch
 * [segments, heads, maxLen, headDim], attended with a key-padding mask, and scattered back, so the
 * cost is that of the segments, not of the whole sequence. A single segment covering everything,
 * or segments of equal length, skip the gather. Padded query slots see the real keys of their
 * segment and are dropped, so nothing is NaN.
 *
 * <p>The index tensors are built once per forward pass on the given device and shared by every
 * block that uses the same segments.
 */
final class QwenSegmentAttention {
    private final int count, maxLen, total;
    private final boolean equalLengths;
    private final Tensor gather;   // [count * maxLen] int64, patch of each slot (0 in padding); null if equalLengths
    private final Tensor scatter;  // [total] int64, slot of each patch; null if equalLengths
    private final Tensor keyMask;  // [count, 1, 1, maxLen] bool; null if equalLengths

    private QwenSegmentAttention(int count, int maxLen, int total, Tensor gather, Tensor scatter, Tensor keyMask) {
        this.count = count;
        this.maxLen = maxLen;
        this.total = total;
        this.equalLengths = gather == null;
        this.gather = gather;
        this.scatter = scatter;
        this.keyMask = keyMask;
    }

    /** Segments [cu[i], cu[i+1]) of a sequence of cu[last] positions (empty segments are skipped). */
    static QwenSegmentAttention of(int[] cu, Device device) {
        int total = cu[cu.length - 1];
        int count = 0, maxLen = 0, minLen = Integer.MAX_VALUE;
        for (int i = 1; i < cu.length; i++) {
            int len = cu[i] - cu[i - 1];
            if (len < 0) {
                throw new IllegalArgumentException("segment boundaries must not decrease, got " + java.util.Arrays.toString(cu));
            }
            if (len > 0) {
                count++;
                maxLen = Math.max(maxLen, len);
                minLen = Math.min(minLen, len);
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("no non-empty segment in " + java.util.Arrays.toString(cu));
        }
        if (minLen == maxLen) {
            return new QwenSegmentAttention(count, maxLen, total, null, null, null);
        }
        long[] gather = new long[count * maxLen];
        long[] scatter = new long[total];
        boolean[] valid = new boolean[count * maxLen];
        int s = 0;
        for (int i = 1; i < cu.length; i++) {
            int len = cu[i] - cu[i - 1];
            if (len == 0) {
                continue;
            }
            for (int j = 0; j < len; j++) {
                int slot = s * maxLen + j;
                gather[slot] = cu[i - 1] + j;
                scatter[cu[i - 1] + j] = slot;
                valid[slot] = true;
            }
            s++;
        }
        return new QwenSegmentAttention(count, maxLen, total,
                QwenTensors.longs(gather, device, gather.length),
                QwenTensors.longs(scatter, device, total),
                QwenTensors.bools(valid, device, count, 1, 1, maxLen));
    }

    /** q, k, v [N, heads, headDim] -> attention output [N, heads · headDim], softmax(q kᵀ / sqrt(headDim)) v per segment. */
    Tensor attend(Tensor q, Tensor k, Tensor v) {
        long n = q.size(0), heads = q.size(1), headDim = q.size(2);
        if (n != total) {
            throw new IllegalArgumentException("sequence has " + n + " positions, the segments cover " + total);
        }
        if (equalLengths) {
            Tensor y = torch.scaled_dot_product_attention(batch(q), batch(k), batch(v));  // [count, H, len, hd]
            return y.transpose(1, 2).reshape(n, heads * headDim);
        }
        Tensor y = torch.scaled_dot_product_attention(gathered(q), gathered(k), gathered(v), new TensorOptional(keyMask),
                0.0, false, new DoubleOptional(), false);
        return y.transpose(1, 2).reshape((long) count * maxLen, heads * headDim).index_select(0, scatter);
    }

    private Tensor batch(Tensor x) {
        return x.view(count, maxLen, x.size(1), x.size(2)).transpose(1, 2);
    }

    private Tensor gathered(Tensor x) {
        return x.index_select(0, gather).view(count, maxLen, x.size(1), x.size(2)).transpose(1, 2);
    }
}
