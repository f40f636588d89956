package io.vlmrl.kernels;

import org.bytedeco.pytorch.Tensor;

/**
 * Token log-probabilities (and optionally entropies) computed from logits, with the state
 * needed for the backward pass. Obtained from {@link #compute}; the fused implementation is
 * {@link TokenLogProbs}, the eager LibTorch reference {@link EagerTokenLogProbs}.
 *
 * <p>Both implementations return <em>detached</em> outputs: the gradient reaches the logits
 * only through {@link #backward}. The usual chain is
 * <pre>{@code
 * LogProbs lp = LogProbs.compute(KernelBackend.FUSED, logits, targets, 1.0, true);
 * PolicyLossResult r = PolicyLoss.compute(inputs(lp.logp(), lp.entropy(), ...), config);
 * lp.backward(r.gradLogp(), r.gradEntropy(), true);   // logits.backward(dLoss/dlogits)
 * }</pre>
 */
public interface LogProbs {

    /**
     * Computes log-probs with the chosen implementation.
     *
     * @param logits [N, V] or [B, T, V], float32 or bfloat16 (eager: any float dtype)
     * @param targets int64 token ids, shape of logits without the last dimension
     * @param temperature T &gt; 0; the logits are divided by it
     * @param withEntropy also compute the entropy of each row's distribution
     */
    static LogProbs compute(KernelBackend backend, Tensor logits, Tensor targets, double temperature,
                            boolean withEntropy) {
        return backend == KernelBackend.FUSED
                ? TokenLogProbs.forward(logits, targets, temperature, withEntropy, NonFinitePolicy.ERROR)
                : EagerTokenLogProbs.forward(logits, targets, temperature, withEntropy, NonFinitePolicy.ERROR);
    }

    /** log p(target), shape of targets, detached (float32; eager: float64 for float64 logits). */
    Tensor logp();

    /** Entropy per row, shape of targets, detached; null unless computed with entropy. */
    Tensor entropy();

    /** The saved logsumexp of logits / T per row (NaN for rows masked as non-finite). */
    Tensor lse();

    /** Rows whose logits had a NaN or +Inf (masked under {@link NonFinitePolicy#MASK}). */
    long nonFiniteRows();

    /**
     * dLoss/dlogits for the given upstream gradients, returned to the caller.
     *
     * @param gradLogp dLoss/dlogp, shape of targets; null means 0
     * @param gradEntropy dLoss/dentropy, shape of targets; null means 0 (needs withEntropy)
     * @param inPlace write the gradient into the logits' storage when that is safe
     *        (see {@link TokenLogProbs}); the logits' values are lost then
     * @return a tensor shaped like the logits, of their dtype
     */
    Tensor gradLogits(Tensor gradLogp, Tensor gradEntropy, boolean inPlace);

    /**
     * Computes dLoss/dlogits and back-propagates it into the autograd graph of the logits
     * ({@code logits.backward(grad)}).
     *
     * @throws IllegalStateException when the logits do not require grad (use {@link #gradLogits})
     */
    void backward(Tensor gradLogp, Tensor gradEntropy, boolean inPlace);
}
