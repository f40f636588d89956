package io.vlmrl.model;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of every decoder layer for incremental decoding, preallocated to a fixed
 * capacity so that a decode step writes in place instead of concatenating.
 *
 * <p>Per layer: keys/values [B, numKvHeads, capacity, headDim] (keys already rotated). A forward
 * call writes its L new positions at {@link #length()} in every layer and then {@link #advance}s.
 */
final class KvCache implements AttentionKv {
    private final Tensor[] keys, values;
    private final int capacity;
    private int length;

    KvCache(VlmConfig config, long batch, int capacity, Device device) {
        this.capacity = capacity;
        keys = new Tensor[config.numLayers()];
        values = new Tensor[config.numLayers()];
        TensorOptions options = new TensorOptions(device).dtype(new org.bytedeco.pytorch.ScalarTypeOptional(torch.ScalarType.Float));
        for (int i = 0; i < keys.length; i++) {
            keys[i] = torch.zeros(new long[] {batch, config.numKvHeads(), capacity, config.headDim()}, options);
            values[i] = torch.zeros(new long[] {batch, config.numKvHeads(), capacity, config.headDim()}, options);
        }
    }

    private KvCache(Tensor[] keys, Tensor[] values, int capacity, int length) {
        this.keys = keys;
        this.values = values;
        this.capacity = capacity;
        this.length = length;
    }

    /**
     * A cache of {@code rows} x this one's rows, row i repeated {@code rows} times in a row (the
     * G samples of a prompt decode from one prefill); same capacity and length.
     */
    KvCache repeatRows(int rows) {
        Tensor[] k = new Tensor[keys.length], v = new Tensor[values.length];
        for (int i = 0; i < keys.length; i++) {
            k[i] = keys[i].repeat_interleave(rows, new LongOptional(0), new LongOptional());
            v[i] = values[i].repeat_interleave(rows, new LongOptional(0), new LongOptional());
        }
        return new KvCache(k, v, capacity, length);
    }

    /** Number of positions written (and advanced past) so far. */
    int length() {
        return length;
    }

    int capacity() {
        return capacity;
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
