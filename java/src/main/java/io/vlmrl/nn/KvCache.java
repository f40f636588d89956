package io.vlmrl.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of every decoder layer for incremental decoding, preallocated to a fixed
 * capacity so that a decode step writes in place instead of concatenating (no autograd: an
 * inference cache; training uses {@link PromptKv}).
 *
 * <p>Per layer: keys/values [B, kvHeads, capacity, headDim] (keys already rotated). A forward
 * call writes its L new positions at {@link #length()} in every layer and then {@link #advance}s.
 * The cache owns its tensors; they are freed with the {@code PointerScope} it was made in.
 */
public final class KvCache implements AttentionKv {
    private final Tensor[] keys, values;
    private final int capacity;
    private int length;

    public KvCache(int layers, long batch, int kvHeads, int capacity, int headDim, Device device, torch.ScalarType dtype) {
        this(new Tensor[layers], new Tensor[layers], capacity, 0);
        TensorOptions options = new TensorOptions(device).dtype(new ScalarTypeOptional(dtype));
        long[] shape = {batch, kvHeads, capacity, headDim};
        for (int i = 0; i < layers; i++) {
            keys[i] = torch.zeros(shape, options);
            values[i] = torch.zeros(shape, options);
        }
    }

    private KvCache(Tensor[] keys, Tensor[] values, int capacity, int length) {
        this.keys = keys;
        this.values = values;
        this.capacity = capacity;
        this.length = length;
    }

    /**
     * A cache of {@code times} x this one's rows, row r repeated {@code times} times in a row
     * (rows r·times .. r·times + times - 1: the G samples of a prompt decode from one prefill);
     * same capacity and length.
     */
    public KvCache repeatRows(int times) {
        Tensor[] k = new Tensor[keys.length], v = new Tensor[values.length];
        for (int i = 0; i < keys.length; i++) {
            k[i] = keys[i].repeat_interleave(times, new LongOptional(0), new LongOptional());
            v[i] = values[i].repeat_interleave(times, new LongOptional(0), new LongOptional());
        }
        return new KvCache(k, v, capacity, length);
    }

    /** Number of positions written (and advanced past) so far. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Rows of the cache. */
    public long batch() {
        return keys[0].size(0);
    }

    /**
     * Writes k, v [B, Hkv, L, hd] of {@code layer} at positions [length, length + L) and returns
     * views {keys, values} over [0, length + L).
     */
    @Override
    public Tensor[] write(int layer, Tensor k, Tensor v) {
        long l = k.size(2);
        if (length + l > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + l + " > capacity " + capacity);
        }
        keys[layer].narrow(2, length, l).copy_(k);
        values[layer].narrow(2, length, l).copy_(v);
        return new Tensor[] {keys[layer].narrow(2, 0, length + l), values[layer].narrow(2, 0, length + l)};
    }

    /** Marks {@code l} more positions as written (after all layers of one forward call). */
    @Override
    public void advance(long l) {
        length += (int) l;
    }
}
