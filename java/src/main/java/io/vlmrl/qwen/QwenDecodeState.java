package io.vlmrl.qwen;

import io.vlmrl.nn.KvCache;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * Where incremental decoding stands after {@link QwenVlModel#prefill}: the KV cache, which cached
 * positions are real (left padding is not), and the M-RoPE position of each row's next token
 * (its prompt's max position + 1, then one more per decoded token, on all three axes).
 *
 * <p>{@link #repeatRows} turns the state of P prefilled prompts into the state of P·G sequences
 * (each prompt's rows repeated G times), so a group of G samples needs a single prefill.
 *
 * <p>Native memory: the cache tensors are allocated in the {@code PointerScope} open when the
 * state is made (by {@code prefill} or {@code repeatRows}) and freed when that scope closes; use a
 * state only inside it.
 */
public final class QwenDecodeState {
    final KvCache cache;
    final Tensor keyValid;      // [B, capacity] bool
    final long[] nextPositions; // [B]

    QwenDecodeState(KvCache cache, Tensor keyValid, long[] nextPositions) {
        this.cache = cache;
        this.keyValid = keyValid;
        this.nextPositions = nextPositions;
    }

    /** Number of sequences. */
    public int rows() {
        return nextPositions.length;
    }

    /** Cached positions so far (padded prompt length + decoded tokens). */
    public int length() {
        return cache.length();
    }

    /** Most positions the cache holds. */
    public int capacity() {
        return cache.capacity();
    }

    /** The M-RoPE position the next token of each row gets. */
    public long[] nextPositions() {
        return nextPositions.clone();
    }

    /** A new state with every row repeated {@code times} times in place (row r becomes rows r·times .. r·times + times - 1). */
    public QwenDecodeState repeatRows(int times) {
        if (times < 1) {
            throw new IllegalArgumentException("times must be >= 1, got " + times);
        }
        long[] next = new long[nextPositions.length * times];
        for (int i = 0; i < next.length; i++) {
            next[i] = nextPositions[i / times];
        }
        return new QwenDecodeState(cache.repeatRows(times),
                keyValid.repeat_interleave(times, new LongOptional(0), new LongOptional()), next);
    }
}
