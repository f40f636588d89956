package io.vlmrl.nn;

import org.bytedeco.pytorch.Tensor;

/**
 * Where a decoder layer's attention finds the keys and values of the positions before the tokens
 * it is running: a preallocated inference cache ({@link KvCache}) or a training prompt's keys and
 * values kept in the autograd graph ({@link PromptKv}).
 */
public interface AttentionKv {
    /**
     * Takes the rotated keys and values [B, Hkv, L, hd] of {@code layer}'s current tokens and
     * returns {keys, values} [B, Hkv, Lk, hd] over every position they attend to (Lk >= L).
     */
    Tensor[] write(int layer, Tensor k, Tensor v);

    /** Called once after every layer ran on {@code l} tokens. */
    void advance(long l);
}
