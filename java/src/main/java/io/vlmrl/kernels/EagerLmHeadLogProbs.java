package io.vlmrl.kernels;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The eager reference of {@link LmHeadLogProbs}: the logits {@code h · Wᵀ} are materialised with
 * a LibTorch matmul attached to autograd, then {@link EagerTokenLogProbs} (log_softmax, gather,
 * entropy, autograd) computes the log-probs, and {@link #backward} runs
 * {@code logits.backward(dL/dlogits)} through the matmul into h's graph and W. Same contract as
 * the fused op (detached float outputs, one backward); any floating dtype (float64 included, for
 * tests). It holds the [N, V] logits and their autograd state: it is the memory the fused op
 * saves.
 *
 * <p>Native memory: the logits and the graph are LibTorch tensors owned by the caller's
 * {@code PointerScope}.
 */
public final class EagerLmHeadLogProbs {
    private final Tensor logits;
    private final EagerTokenLogProbs logProbs;

    private EagerLmHeadLogProbs(Tensor logits, EagerTokenLogProbs logProbs) {
        this.logits = logits;
        this.logProbs = logProbs;
    }

    /**
     * Runs the eager forward; arguments as {@link LmHeadLogProbs#forward(Tensor, Tensor, Tensor, double, boolean,
     * long, NonFinitePolicy)} without the chunk, any floating dtype.
     */
    public static EagerLmHeadLogProbs forward(Tensor hidden, Tensor weight, Tensor targets, double temperature,
                                              boolean withEntropy, NonFinitePolicy policy) {
        TensorChecks.requireNonNull("hidden", hidden);
        TensorChecks.requireNonNull("lmHeadWeight", weight);
        TensorChecks.requireDim("lmHeadWeight", weight, 2, "[V, D]");
        if (hidden.dim() < 2 || weight.size(1) != hidden.size(-1)) {
            throw new IllegalArgumentException("lmHeadWeight: expected shape [V, " + hidden.size(-1)
                    + "] (D from hidden " + TensorChecks.shape(hidden) + "), got " + TensorChecks.shape(weight));
        }
        TensorChecks.requireDtype("hidden", hidden, ScalarType.Float, ScalarType.BFloat16, ScalarType.Double,
                ScalarType.Half);
        Tensor logits = torch.matmul(hidden, weight.t());
        return new EagerLmHeadLogProbs(logits,
                EagerTokenLogProbs.forward(logits, targets, temperature, withEntropy, policy));
    }

    /** log p(target), shaped like the targets, detached. */
    public Tensor logp() {
        return logProbs.logp();
    }

    /** Entropy per token, detached, or null. */
    public Tensor entropy() {
        return logProbs.entropy();
    }

    /** The materialised logits [..., V] (attached to h's and W's graph). */
    public Tensor logits() {
        return logits;
    }

    /** Back-propagates dL/dlogp and dL/dentropy through the logits into h and W. */
    public void backward(Tensor gradLogp, Tensor gradEntropy) {
        logProbs.backward(gradLogp, gradEntropy, false);
    }
}
