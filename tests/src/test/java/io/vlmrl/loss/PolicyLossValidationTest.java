package io.vlmrl.loss;

import static io.vlmrl.kernels.TestTensors.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vlmrl.kernels.KernelBackend;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every bad input of the policy loss is rejected with a message naming it. */
class PolicyLossValidationTest {

    private static String message(Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    private final Tensor logp = torch.randn(4, 128);
    private final Tensor adv = torch.randn(4);
    private final Tensor mask = torch.ones(4, 128).to(ScalarType.Bool);

    @Test
    void shapes() {
        assertEquals("old: expected shape [4, 128] (same as logp), got [4, 127]",
                message(() -> PolicyLossInputs.builder(logp, torch.randn(4, 127), adv, mask).build()));
        assertEquals("adv: expected shape [4] ([B] with B from logp), got [5]",
                message(() -> PolicyLossInputs.builder(logp, logp, torch.randn(5), mask).build()));
        assertEquals("adv: expected shape [4, 128] ([B, T], same as logp, or [B]), got [4, 2]",
                message(() -> PolicyLossInputs.builder(logp, logp, torch.randn(4, 2), mask).build()));
        assertEquals("mask: expected shape [4, 128] (same as logp), got [128, 4]",
                message(() -> PolicyLossInputs.builder(logp, logp, adv, mask.t()).build()));
        assertEquals("ref: expected shape [4, 128] (same as logp), got [4]",
                message(() -> PolicyLossInputs.builder(logp, logp, adv, mask).ref(adv).build()));
        assertEquals("klWeights: expected shape [4] ([B] with B from logp), got [4, 128]",
                message(() -> PolicyLossInputs.builder(logp, logp, adv, mask).klWeights(logp).build()));
        assertEquals("entropy: expected shape [4, 128] (same as logp), got [4]",
                message(() -> PolicyLossInputs.builder(logp, logp, adv, mask).entropy(adv).build()));
        assertEquals("logp: expected 2 dimensions [B, T], got shape [512]",
                message(() -> PolicyLossInputs.builder(logp.reshape(-1), logp, adv, mask).build()));
        assertEquals("old: expected a tensor, got null",
                message(() -> PolicyLossInputs.builder(logp, null, adv, mask).build()));
    }

    @Test
    void dtypes() {
        PolicyLossConfig cfg = PolicyLossConfig.ppo().build();
        assertEquals("logp: expected dtype float32, got float64", message(() -> PolicyLoss.compute(
                PolicyLossInputs.builder(logp.to(ScalarType.Double), logp, adv, mask).build(), cfg)));
        assertEquals("adv: expected dtype float32, got bfloat16", message(() -> PolicyLoss.compute(
                PolicyLossInputs.builder(logp, logp, adv.to(ScalarType.BFloat16), mask).build(), cfg)));
        assertEquals("mask: expected dtype one of [bool, uint8, float32, float64], got int64", message(() ->
                PolicyLossInputs.builder(logp, logp, adv, mask.to(ScalarType.Long)).build()));
        assertEquals("old: expected dtype one of [float32, float64], got bfloat16", message(() -> PolicyLoss.compute(
                PolicyLossInputs.builder(logp, logp.to(ScalarType.BFloat16), adv, mask).build(),
                cfg.toBuilder().backend(KernelBackend.EAGER).build())));
        Tensor half = mask.to(ScalarType.Float).mul(s(0.5));
        assertEquals("mask[0, 0]: expected 0 or 1, got 0.5", message(() -> PolicyLoss.compute(
                PolicyLossInputs.builder(logp, logp, adv, half).build(), cfg)));
    }

    @Test
    void missingInputsTheConfigNeeds() {
        PolicyLossInputs in = PolicyLossInputs.builder(logp, logp, adv, mask).build();
        assertEquals("ref: expected reference log-probs [B, T] because klEstimator = k3, got null",
                message(() -> PolicyLoss.compute(in, PolicyLossConfig.ppo().klEstimator(KlEstimator.K3).klBeta(0.1).build())));
        assertEquals("entropy: expected token entropies [B, T] because entropyCoef = 0.01, got null",
                message(() -> PolicyLoss.compute(in, PolicyLossConfig.ppo().entropyCoef(0.01).build())));
        assertEquals("advantageStats: expected the rollout batch's statistics for loss mode aaac "
                        + "(AdvantageStats.of(adv, mask), once per rollout batch), got null",
                message(() -> PolicyLoss.compute(in, PolicyLossConfig.aaac().build())));
        assertEquals("lossMode: expected one of [aaac, clip-higher, ppo], got 'nope'",
                message(() -> PolicyLoss.compute(in, PolicyLossConfig.ppo().lossMode("nope").build()))
                        .replaceAll(", test-[a-z-]+", ""));
    }

    @Test
    void configRanges() {
        assertEquals("epsLow: expected in [0, 1), got 1.5", message(() -> PolicyLossConfig.ppo().epsLow(1.5).build()));
        assertEquals("dualClipC: expected finite and > 1, got 0.5",
                message(() -> PolicyLossConfig.ppo().dualClipC(0.5).build()));
        assertEquals("aaacEpsMax: expected finite and >= aaacEpsMin (0.2), got 0.1",
                message(() -> PolicyLossConfig.aaac().aaacEpsMax(0.1).build()));
        assertEquals("klBeta: expected finite and >= 0, got -1.0", message(() -> PolicyLossConfig.ppo().klBeta(-1).build()));
        assertEquals("aggregation: expected one of token-mean, seq-mean-token-sum, seq-mean-token-mean, "
                + "seq-mean-token-sum-norm, got 'mean'", message(() -> Aggregation.parse("mean")));
    }

    @Test
    void nonFiniteInputsNameTheTensorAndIndex() {
        PolicyLossConfig cfg = PolicyLossConfig.ppo().klEstimator(KlEstimator.K1).klBeta(0.1).entropyCoef(0.1).build();
        for (KernelBackend backend : KernelBackend.values()) {
            PolicyLossConfig c = cfg.toBuilder().backend(backend).build();
            Tensor old = logp.clone();
            old.select(0, 2).select(0, 17).fill_(s(Double.NaN));
            assertEquals("old[2, 17] is NaN", message(() -> PolicyLoss.compute(inputs(logp, old, adv), c)), backend.name());
            Tensor badAdv = adv.clone();
            badAdv.select(0, 1).fill_(s(Double.POSITIVE_INFINITY));
            assertEquals("adv[1] is Infinity", message(() -> PolicyLoss.compute(inputs(logp, logp, badAdv), c)));
            Tensor badLogp = logp.clone();
            badLogp.select(0, 3).select(0, 0).fill_(s(Double.NEGATIVE_INFINITY));
            assertEquals("logp[3, 0] is -Infinity", message(() -> PolicyLoss.compute(inputs(badLogp, logp, adv), c)));
            // The first bad token wins, then the first bad input of that token.
            Tensor both = logp.clone();
            both.select(0, 0).select(0, 5).fill_(s(Double.NaN));
            Tensor old2 = logp.clone();
            old2.select(0, 0).select(0, 4).fill_(s(Double.NaN));
            assertEquals("old[0, 4] is NaN", message(() -> PolicyLoss.compute(inputs(both, old2, adv), c)));
            Tensor badWeights = torch.ones(4);
            badWeights.select(0, 2).fill_(s(Double.NaN));
            assertEquals("klWeights[2] is NaN", message(() -> PolicyLoss.compute(
                    PolicyLossInputs.builder(logp, logp, adv, mask).ref(logp).entropy(logp.exp())
                            .klWeights(badWeights).build(), c)));
        }
    }

    private PolicyLossInputs inputs(Tensor lp, Tensor old, Tensor a) {
        return PolicyLossInputs.builder(lp, old, a, mask).ref(logp).entropy(logp.exp()).build();
    }
}
