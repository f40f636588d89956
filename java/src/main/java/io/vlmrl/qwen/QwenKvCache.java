package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys (already rotated) and values of every decoder layer, preallocated to a fixed capacity so
 * that a decode step writes in place: per layer [B, numKvHeads, capacity, headDim]. A forward call
 * writes its L new positions at {@link #length()} in every layer, then {@link #advance}s.
 */
final class QwenKvCache {
    private final Tensor[] keys, values;
    private final int capacity;
    private int length;

    QwenKvCache(QwenVlConfig.Text config, long batch, int capacity, Device device, torch.ScalarType dtype) {
        this(new Tensor[config.numLayers()], new Tensor[config.numLayers()], capacity, 0);
        TensorOptions options = new TensorOptions(device).dtype(new org.bytedeco.pytorch.ScalarTypeOptional(dtype));
        long[] shape = {batch, config.numKvHeads(), capacity, config.headDim()};
        for (int i = 0; i < keys.length; i++) {
            keys[i] = torch.zeros(shape, options);
            values[i] = torch.zeros(shape, options);
        }
    }

    private QwenKvCache(Tensor[] keys, Tensor[] values, int capacity, int length) {
        this.keys = keys;
        this.values = values;
        this.capacity = capacity;
        this.length = length;
    }

    int length() {
        return length;
    }

    int capacity() {
        return capacity;
    }

    long batch() {
        return keys[0].size(0);
    }

    /** Writes k, v [B, Hkv, L, hd] of {@code layer} at [length, length + L); returns {keys, values} over [0, length + L). */
    Tensor[] write(int layer, Tensor k, Tensor v) {
        long l = k.size(2);
        if (length + l > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + l + " > capacity " + capacity);
        }
        keys[layer].narrow(2, length, l).copy_(k);
        values[layer].narrow(2, length, l).copy_(v);
        return new Tensor[] {keys[layer].narrow(2, 0, length + l), values[layer].narrow(2, 0, length + l)};
    }

    /** Marks {@code l} more positions as written (after all layers of one forward call). */
    void advance(long l) {
        length += (int) l;
    }

    /** A new cache whose rows are this cache's rows each repeated {@code times} times (row r -> rows r·times ...). */
    QwenKvCache repeatRows(int times) {
        Tensor[] k = new Tensor[keys.length], v = new Tensor[values.length];
        for (int i = 0; i < keys.length; i++) {
            k[i] = keys[i].repeat_interleave(times, new LongOptional(0), new LongOptional());
            v[i] = values[i].repeat_interleave(times, new LongOptional(0), new LongOptional());
        }
        return new QwenKvCache(k, v, capacity, length);
    }
}
