package io.vlmrl.kernels;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Token log-probs and entropy with plain LibTorch ops and autograd: the reference for
 * {@link TokenLogProbs} and the "eager peer" of the benchmarks ({@code kernels=eager}).
 *
 * <pre>
 *   z = logits / T;  logp = log_softmax(z).gather(targets);  H = -sum(softmax(z) * log_softmax(z))
 * </pre>
 * It computes in float64 for float64 logits and in float32 otherwise (bfloat16 logits are
 * upcast), materialises the [N, V] log-softmax like any eager implementation, and obtains the
 * gradient from autograd. Its contract is that of {@link LogProbs}: outputs are detached and
 * {@link #backward} chains the gradient into the logits' graph. The autograd graph is built on
 * a detached alias of the logits, so {@code inPlace} has no effect here (autograd allocates
 * the gradient).
 *
 * <p>Non-finite rows (a NaN or +Inf logit, or all -Inf) are handled like the fused op: an
 * error naming the first bad element, or under {@link NonFinitePolicy#MASK} logp = H = 0 and a
 * zero gradient.
 */
public final class EagerTokenLogProbs implements LogProbs {
    private final Tensor logits;
    private final Tensor leaf;       // detached alias of the logits with requires_grad: the graph's input
    private final Tensor logp;       // attached to the graph on `leaf`
    private final Tensor entropy;    // attached, or null
    private final Tensor lse;
    private final long nonFiniteRows;

    private EagerTokenLogProbs(Tensor logits, Tensor leaf, Tensor logp, Tensor entropy, Tensor lse,
                               long nonFiniteRows) {
        this.logits = logits;
        this.leaf = leaf;
        this.logp = logp;
        this.entropy = entropy;
        this.lse = lse;
        this.nonFiniteRows = nonFiniteRows;
    }

    /**
     * Runs the eager forward; arguments as {@link TokenLogProbs#forward(Tensor, Tensor, double, boolean,
     * NonFinitePolicy)}, except that any floating dtype is accepted and the last dimension need
     * not be contiguous.
     */
    public static EagerTokenLogProbs forward(Tensor logits, Tensor targets, double temperature, boolean withEntropy,
                                             NonFinitePolicy policy) {
        TokenLogProbsArgs.requireLogitsRank(logits, targets);
        TensorChecks.requireDtype("logits", logits, ScalarType.Float, ScalarType.BFloat16, ScalarType.Double,
                ScalarType.Half);
        long[] rowShape = TokenLogProbsArgs.requireTargetsMatch(logits, targets);
        TokenLogProbsArgs.requireTemperature(temperature);
        long vocab = logits.size(-1);
        if (targets.numel() > 0) {
            long min = targets.min().item_long();
            long max = targets.max().item_long();
            if (min < 0 || max >= vocab) {
                long bad = torch.nonzero(targets.lt(new Scalar(0)).logical_or(targets.ge(new Scalar(vocab)))
                        .reshape(-1)).get(0).item_long();
                throw new IllegalArgumentException("targets" + TensorChecks.index(bad, rowShape) + ": expected a token id in [0, "
                        + vocab + "), got " + targets.reshape(-1).get(bad).item_long());
            }
        }

        ScalarType compute = TensorChecks.dtype(logits) == ScalarType.Double ? ScalarType.Double : ScalarType.Float;
        Tensor leaf = logits.detach().requires_grad_(true);
        Tensor z = leaf.to(compute).div(new Scalar(temperature));

        // A row is non-finite when it has a NaN or +Inf, or no finite maximum (all -Inf).
        Tensor rowMax = z.detach().amax(new long[] {-1}, false);
        Tensor badRow = z.detach().isnan().logical_or(z.detach().eq(new Scalar(Double.POSITIVE_INFINITY)))
                .any(-1).logical_or(rowMax.eq(new Scalar(Double.NEGATIVE_INFINITY)));
        long bad = badRow.sum().item_long();
        if (bad > 0 && policy == NonFinitePolicy.ERROR) {
            long row = torch.nonzero(badRow.reshape(-1)).get(0).item_long();
            throw NonFiniteLogitsException.ofRow(logits.reshape(-1, logits.size(-1)).select(0, row),
                    row, rowShape, NonFiniteLogitsException.Formula.GIVEN);
        }
        if (bad > 0) {
            z = torch.where(badRow.unsqueeze(-1), torch.zeros_like(z), z);
        }

        Tensor logSoftmax = torch.log_softmax(z, -1);
        Tensor logp = logSoftmax.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
        Tensor entropy = null;
        if (withEntropy) {
            // p log p with log p floored (p = 0 for -Inf logits gives 0, not 0 * -Inf).
            Tensor floored = logSoftmax.clamp_min(new Scalar(-1e30));
            entropy = logSoftmax.exp().mul(floored).sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).neg();
        }
        Tensor lse = torch.logsumexp(z.detach(), new long[] {-1}, false);
        if (bad > 0) {
            Tensor zero = torch.zeros_like(logp);
            logp = torch.where(badRow, zero, logp);
            if (entropy != null) {
                entropy = torch.where(badRow, zero, entropy);
            }
            lse = lse.masked_fill(badRow, new Scalar(Double.NaN));
        }
        return new EagerTokenLogProbs(logits, leaf, logp, entropy, lse, bad);
    }

    @Override
    public Tensor logp() {
        return logp.detach();
    }

    @Override
    public Tensor entropy() {
        return entropy == null ? null : entropy.detach();
    }

    @Override
    public Tensor lse() {
        return lse;
    }

    @Override
    public long nonFiniteRows() {
        return nonFiniteRows;
    }

    @Override
    public Tensor gradLogits(Tensor gradLogp, Tensor gradEntropy, boolean inPlace) {
        if (gradEntropy != null && entropy == null) {
            throw new IllegalArgumentException("gradEntropy: expected null because the forward ran with "
                    + "withEntropy = false, got a tensor of shape " + TensorChecks.shape(gradEntropy));
        }
        TensorVector outputs = new TensorVector();
        TensorVector grads = new TensorVector();
        if (gradLogp != null) {
            TensorChecks.requireShape("gradLogp", gradLogp, TensorChecks.sizes(logp), "shape of targets");
            outputs.push_back(logp);
            grads.push_back(gradLogp.detach().to(TensorChecks.dtype(logp)));
        }
        if (gradEntropy != null) {
            TensorChecks.requireShape("gradEntropy", gradEntropy, TensorChecks.sizes(entropy), "shape of targets");
            outputs.push_back(entropy);
            grads.push_back(gradEntropy.detach().to(TensorChecks.dtype(entropy)));
        }
        if (outputs.size() == 0) {
            return torch.zeros_like(logits);
        }
        // retain_graph: gradLogits may be asked again (e.g. by a test comparing twice).
        TensorVector result = torch.grad(outputs, new TensorVector(leaf), grads, new BoolOptional(true), false, true);
        Tensor g = result.get(0);
        return g.defined() ? g : torch.zeros_like(logits);
    }

    @Override
    public void backward(Tensor gradLogp, Tensor gradEntropy, boolean inPlace) {
        if (!logits.requires_grad()) {
            throw new IllegalStateException("logits: do not require grad, nothing to back-propagate into; "
                    + "use gradLogits(...) to get the gradient");
        }
        logits.backward(gradLogits(gradLogp, gradEntropy, inPlace), new BoolOptional(), false,
                new TensorArrayRefOptional());
    }

}
