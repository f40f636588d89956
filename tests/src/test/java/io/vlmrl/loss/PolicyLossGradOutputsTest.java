package io.vlmrl.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.kernels.KernelBackend;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** {@code PolicyLossInputs.Builder.gradOutputs}: the loss writes its gradients into the caller's buffers. */
class PolicyLossGradOutputsTest {

    @ParameterizedTest
    @EnumSource(KernelBackend.class)
    void gradientsGoIntoTheCallersBuffersWithTheSameValues(KernelBackend backend) {
        LossFixtures f = new LossFixtures(21, 3, 17, true, 0.3);
        PolicyLossConfig cfg = PolicyLossConfig.ppo().entropyCoef(0.01).backend(backend).build();
        PolicyLossResult fresh = PolicyLoss.compute(f.inputs().build(), cfg);

        Tensor gradLogp = torch.full(new long[] {3, 17}, new org.bytedeco.pytorch.Scalar(7.0));
        Tensor gradEntropy = torch.full(new long[] {3, 17}, new org.bytedeco.pytorch.Scalar(7.0));
        for (int call = 0; call < 2; call++) { // stale values from a previous call are overwritten
            PolicyLossResult reused = PolicyLoss.compute(f.inputs().gradOutputs(gradLogp, gradEntropy).build(), cfg);
            assertEquals(gradLogp.data_ptr().address(), reused.gradLogp().data_ptr().address(), "same storage");
            assertEquals(gradEntropy.data_ptr().address(), reused.gradEntropy().data_ptr().address(), "same storage");
            assertTrue(torch.equal(gradLogp, fresh.gradLogp().to(ScalarType.Float)), "dLoss/dlogp");
            assertTrue(torch.equal(gradEntropy, fresh.gradEntropy().to(ScalarType.Float)), "dLoss/dentropy");
            assertEquals(fresh.loss(), reused.loss(), 0.0);
        }
    }

    @Test
    void badBuffersAreNamed() {
        LossFixtures f = new LossFixtures(22, 2, 5, false, 0.3);
        assertEquals("gradLogpOut: expected shape [2, 5] (same as logp), got [5, 2]", message(() ->
                f.inputs().gradOutputs(torch.zeros(5, 2), null).build()));
        assertEquals("gradLogpOut: expected dtype float32, got float64", message(() ->
                f.inputs().gradOutputs(torch.zeros(2, 5).to(ScalarType.Double), null).build()));
        assertEquals("gradLogpOut: expected a contiguous tensor, got strides [1, 2]", message(() ->
                f.inputs().gradOutputs(torch.zeros(5, 2).t(), null).build()));
        assertEquals("gradEntropyOut: expected null without an entropy input, got a tensor of shape [2, 5]", message(() ->
                PolicyLossInputs.builder(f.logp, f.old, f.adv, f.mask).gradOutputs(null, torch.zeros(2, 5)).build()));
    }

    private static String message(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }
}
