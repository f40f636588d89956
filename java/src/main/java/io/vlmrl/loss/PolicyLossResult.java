package io.vlmrl.loss;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Value, gradients and metric sums of one policy-loss call.
 *
 * <p>{@link #gradLogp()} is dLoss/dlogp [B, T] (0 at masked tokens) and {@link #gradEntropy()}
 * dLoss/dentropy (null without an entropy input). When the input logp required grad,
 * {@link PolicyLoss#compute} has already back-propagated them ({@link #backpropagated()});
 * otherwise chain them yourself, e.g. into {@code LogProbs.backward(gradLogp, gradEntropy, true)}.
 */
public final class PolicyLossResult {
    private final double loss;
    private final Tensor gradLogp;
    private final Tensor gradEntropy;
    private final PolicyLossMetrics metrics;
    private final boolean backpropagated;

    public PolicyLossResult(double loss, Tensor gradLogp, Tensor gradEntropy, PolicyLossMetrics metrics,
                            boolean backpropagated) {
        this.loss = loss;
        this.gradLogp = gradLogp;
        this.gradEntropy = gradEntropy;
        this.metrics = metrics;
        this.backpropagated = backpropagated;
    }

    /** This call's share of the mini-batch loss: pg_loss + beta * kl_loss - entropyCoef * entropy_loss. */
    public double loss() { return loss; }

    /** dLoss/dlogp, [B, T]. */
    public Tensor gradLogp() { return gradLogp; }

    /** dLoss/dentropy, [B, T], or null without an entropy input. */
    public Tensor gradEntropy() { return gradEntropy; }

    /** The metric sums (mergeable with {@link PolicyLossMetrics#plus}). */
    public PolicyLossMetrics metrics() { return metrics; }

    /** The metrics by name ({@link PolicyLossMetrics#toMap()}). */
    public Map<String, Double> metricMap() { return metrics.toMap(); }

    /** True when the gradients were already back-propagated into logp / entropy. */
    public boolean backpropagated() { return backpropagated; }

    /** This result, marked as back-propagated. */
    PolicyLossResult asBackpropagated() {
        return new PolicyLossResult(loss, gradLogp, gradEntropy, metrics, true);
    }
}
