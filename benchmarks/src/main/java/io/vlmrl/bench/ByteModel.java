package io.vlmrl.bench;

/**
 * The minimal number of bytes each benchmarked kernel must move between memory and the
 * cores, the numerator of its effective bandwidth (bytes / time), compared with the STREAM
 * triad's. Every array is counted once per pass that must touch it; writes are counted once
 * (STREAM's convention: the write-allocate read is not counted, for the triad either).
 * benchmarks/README.md explains each model.
 */
public final class ByteModel {

    private ByteModel() {
    }

    /** Policy loss fwd+bwd: one pass, {@link PolicyLossCase#bytesPerToken()} per token. */
    public static long policyLoss(PolicyLossCase lossCase, long tokens) {
        return tokens * lossCase.bytesPerToken();
    }

    /**
     * Token log-probs + entropy fwd+bwd over [N, V] logits of {@code elementBytes} each:
     * the forward reads the logits once; the backward (which needs the upstream gradients,
     * so cannot share the forward's pass) reads them again and writes the logits gradient:
     * 3 N V elementBytes. Per row, the forward also reads the target (8 B) and writes logp,
     * entropy and lse (12 B); the backward reads target, lse, entropy and both upstream
     * gradients (24 B): 44 B per row.
     */
    public static long tokenLogProbs(long rows, long vocab, int elementBytes) {
        return 3L * rows * vocab * elementBytes + 44L * rows;
    }

    /** STREAM triad a = b + s c: read b, c and write a, 12 B per element. */
    public static long triad(long elements) {
        return StreamTriadBenchmark.bytesMoved(elements);
    }
}
