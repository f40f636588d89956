package io.vlmrl.loss;

/**
 * A named policy loss, as registered in {@link PolicyLossRegistry}: computes the loss value,
 * its gradient with respect to logp (and entropy) and the metric sums, without touching
 * autograd ({@link PolicyLoss#compute} back-propagates).
 */
@FunctionalInterface
public interface PolicyLossFunction {
    PolicyLossResult compute(PolicyLossInputs inputs, PolicyLossConfig config);
}
