package io.vlmrl.loss;

import static io.vlmrl.kernels.TestTensors.s;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Random policy-loss inputs (float32) with a float64 copy, for the comparisons. */
final class LossFixtures {
    final Tensor logp;
    final Tensor old;
    final Tensor adv;
    final Tensor mask;
    final Tensor ref;
    final Tensor klWeights;
    final Tensor entropy;

    /**
     * @param perTokenAdv adv [B, T] instead of [B]
     * @param logRatioScale spread of logp - old (large values cross the +-20 clamp)
     */
    LossFixtures(long seed, long b, long t, boolean perTokenAdv, double logRatioScale) {
        torch.manual_seed(seed);
        logp = torch.randn(b, t).mul(s(0.5)).sub(s(2.0));
        old = logp.add(torch.randn(b, t).mul(s(logRatioScale)));
        adv = perTokenAdv ? torch.randn(b, t) : torch.randn(b);
        Tensor m = torch.rand(b, t).gt(s(0.25));
        if (b > 1) {
            m.select(0, 1).fill_(s(0));   // an empty response
        }
        mask = m;
        ref = logp.add(torch.randn(b, t).mul(s(0.4)));
        klWeights = torch.rand(b).add(s(0.2));
        entropy = torch.rand(b, t).mul(s(2.0));
    }

    PolicyLossInputs.Builder inputs() {
        return PolicyLossInputs.builder(logp, old, adv, mask).ref(ref).klWeights(klWeights).entropy(entropy)
                .advantageStats(AdvantageStats.of(adv, mask));
    }

    PolicyLossInputs.Builder inputs64() {
        return PolicyLossInputs.builder(d(logp), d(old), d(adv), mask).ref(d(ref)).klWeights(d(klWeights))
                .entropy(d(entropy)).advantageStats(AdvantageStats.of(adv, mask));
    }

    static Tensor d(Tensor t) {
        return t.to(ScalarType.Double);
    }
}
