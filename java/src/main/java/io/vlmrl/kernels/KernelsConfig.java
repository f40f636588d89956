package io.vlmrl.kernels;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code kernels.*} keys: which implementation computes the log-probs and the policy loss,
 * and whether the fused backend builds the [tokens, V] logits at all.
 *
 * @param backend           fused native kernels or the eager LibTorch reference
 * @param fusedLmHead       on the fused backend, compute the log-probs from the final hidden states
 *                          and the LM head chunk by chunk ({@link LmHeadLogProbs}) instead of from
 *                          materialised logits; off gives the logits path
 * @param lmHeadChunkTokens tokens per chunk of the fused LM head; 0 picks the chunk whose logits
 *                          take about {@value LmHeadLogProbs#DEFAULT_CHUNK_MIB} MiB
 *                          ({@link LmHeadLogProbs#defaultChunkTokens}: 220 tokens at V = 151,936 fp32)
 */
@Section("kernels")
public record KernelsConfig(
        @Key(def = "fused", help = "fused (native kernels) or eager (LibTorch ops, the reference)")
        KernelBackend backend,
        @Key(def = "true", help = "fused backend: log-probs from hidden states and the LM head in chunks, never "
                + "materialising the [tokens, V] logits (false: the logits path)")
        boolean fusedLmHead,
        @Key(def = "0", min = 0, max = Integer.MAX_VALUE, help = "tokens per chunk of the fused LM head; 0 = the "
                + "chunk whose logits take about 128 MiB (220 tokens at V = 151936 fp32)")
        int lmHeadChunkTokens) {

    public static KernelsConfig defaults() {
        return Schema.defaults(KernelsConfig.class);
    }

    /** True when the log-probs come from {@link LmHeadLogProbs} (fused backend and {@code fused_lm_head}). */
    public boolean usesFusedLmHead() {
        return backend == KernelBackend.FUSED && fusedLmHead;
    }
}
