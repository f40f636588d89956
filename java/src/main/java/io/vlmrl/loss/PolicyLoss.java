package io.vlmrl.loss;

import io.vlmrl.kernels.TensorChecks;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Entry point of the policy loss: runs the loss registered as {@code config.lossMode()} and
 * connects its gradient to autograd.
 *
 * <p>If {@code inputs.logp()} (or {@code inputs.entropy()}) requires grad, the gradient is
 * back-propagated into it ({@code logp.backward(grad)}, keeping the graph when
 * {@code config.retainGraph()}), and {@link PolicyLossResult#backpropagated()} is true.
 * Otherwise the result carries the gradients for the caller to chain, typically into
 * {@link io.vlmrl.kernels.LogProbs#backward}.
 */
public final class PolicyLoss {
    private PolicyLoss() {
    }

    /**
     * Computes the loss, its gradients and its metric sums.
     *
     * @throws IllegalArgumentException for an unknown loss mode, bad shapes, dtypes or devices,
     *         missing inputs the config needs, or (under {@code NonFinitePolicy.ERROR}) a
     *         non-finite valid input, named with its first bad index: {@code "old[2, 17] is NaN"}
     */
    public static PolicyLossResult compute(PolicyLossInputs inputs, PolicyLossConfig config) {
        PolicyLossResult result = PolicyLossRegistry.get(config.lossMode()).compute(inputs, config);
        Tensor entropy = inputs.entropy();
        boolean logpGrad = inputs.logp().requires_grad();
        boolean entropyGrad = entropy != null && entropy.requires_grad() && result.gradEntropy() != null;
        if (!logpGrad && !entropyGrad) {
            return result; // the usual case: the caller chains the gradients (no autograd work here)
        }
        TensorVector outputs = new TensorVector();
        TensorVector grads = new TensorVector();
        if (logpGrad) {
            outputs.push_back(inputs.logp());
            grads.push_back(result.gradLogp().to(TensorChecks.dtype(inputs.logp())));
        }
        if (entropyGrad) {
            outputs.push_back(entropy);
            grads.push_back(result.gradEntropy().to(TensorChecks.dtype(entropy)));
        }
        torch.backward(outputs, grads, new BoolOptional(config.retainGraph()), false, new TensorVector());
        return result.asBackpropagated();
    }
}
