package io.vlmrl.loss;

import static io.vlmrl.kernels.TestTensors.maxAbs;
import static io.vlmrl.kernels.TestTensors.maxAbsDiff;
import static io.vlmrl.kernels.TestTensors.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.kernels.EagerTokenLogProbs;
import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.LogProbs;
import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TestTensors;
import io.vlmrl.kernels.TokenLogProbs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The fused policy loss against the eager LibTorch-autograd reference in float64. */
class PolicyLossTest {

    @BeforeAll
    static void threads() {
        torch.set_num_threads(2);
    }

    private static PolicyLossConfig.Builder forMode(String mode) {
        switch (mode) {
            case "clip-higher": return PolicyLossConfig.clipHigher();
            case "aaac": return PolicyLossConfig.aaac();
            default: return PolicyLossConfig.ppo();
        }
    }

    static Stream<Arguments> configurations() {
        List<Arguments> cases = new ArrayList<>();
        String[] modes = {"ppo", "clip-higher", "aaac"};
        int seed = 0;
        for (String mode : modes) {
            for (KlEstimator kl : KlEstimator.values()) {
                for (Aggregation agg : Aggregation.values()) {
                    boolean perToken = seed % 2 == 0;
                    boolean dual = seed % 3 == 0;
                    boolean zscore = seed % 4 == 1;
                    cases.add(Arguments.of(mode, kl, agg, perToken, dual, zscore, seed++));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} kl={1} agg={2} advPerToken={3} dual={4} zscore={5}")
    @MethodSource("configurations")
    void fusedMatchesEagerFloat64(String mode, KlEstimator kl, Aggregation agg, boolean perToken, boolean dual,
                                  boolean zscore, int seed) {
        LossFixtures f = new LossFixtures(100 + seed, 5, 9, perToken, 0.4);
        PolicyLossConfig.Builder cfg = forMode(mode).klEstimator(kl).klBeta(kl == KlEstimator.NONE ? 0 : 0.05)
                .klAggregation(seed % 2 == 0 ? Aggregation.SEQ_MEAN_TOKEN_MEAN : null)
                .aggregation(agg).dualClip(dual).dualClipC(1.3).entropyCoef(0.01)
                .aaacNormalization(zscore ? AaacNormalization.ZSCORE_CDF : AaacNormalization.MINMAX);
        PolicyLossResult fused = PolicyLoss.compute(f.inputs().build(), cfg.build());
        PolicyLossResult eager = PolicyLoss.compute(f.inputs64().build(), cfg.backend(KernelBackend.EAGER).build());
        assertResultsClose(fused, eager);
    }

    static void assertResultsClose(PolicyLossResult fused, PolicyLossResult eager) {
        assertEquals(eager.loss(), fused.loss(), 1e-5 * Math.max(1, Math.abs(eager.loss())), "loss");
        double gradDiff = maxAbsDiff(fused.gradLogp(), eager.gradLogp());
        assertTrue(gradDiff <= 1e-6 * Math.max(1, maxAbs(eager.gradLogp())), "dlogp differs by " + gradDiff);
        if (eager.gradEntropy() != null) {
            assertTrue(maxAbsDiff(fused.gradEntropy(), eager.gradEntropy()) < 1e-7, "dentropy");
        }
        Map<String, Double> a = fused.metricMap();
        Map<String, Double> b = eager.metricMap();
        assertEquals(b.keySet(), a.keySet());
        for (String key : b.keySet()) {
            assertEquals(b.get(key), a.get(key), 1e-5 * Math.max(1, Math.abs(b.get(key))), key);
        }
    }

    /** The clip fractions by advantage sign and size, counted token by token in double precision. */
    @ParameterizedTest(name = "advPerToken={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void clipFractionsByAdvantageSizeCountEachClassOverItsOwnTokens(boolean perToken) {
        LossFixtures f = new LossFixtures(31, 40, 12, perToken, 0.4);
        double split = 0.7;
        PolicyLossConfig cfg = PolicyLossConfig.ppo().clipfracAdvSplit(split).build();
        Map<String, Double> m = PolicyLoss.compute(f.inputs().build(), cfg).metricMap();

        int b = (int) f.logp.size(0), t = (int) f.logp.size(1);
        double[] logp = TestTensors.values(f.logp), old = TestTensors.values(f.old), adv = TestTensors.values(f.adv);
        double[] mask = TestTensors.values(f.mask.to(ScalarType.Double));
        long[] tokens = new long[4];   // A >= s, 0 < A < s, A <= -s, -s < A < 0
        long[] clipped = new long[4];
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < t; k++) {
                int at = i * t + k;
                if (mask[at] == 0) continue;
                double a = perToken ? adv[at] : adv[i];
                double rho = Math.exp(logp[at] - old[at]);
                if (a == 0) continue;
                int cls = a > 0 ? (a >= split ? 0 : 1) : (a <= -split ? 2 : 3);
                tokens[cls]++;
                if (a > 0 ? rho > 1 + cfg.epsHigh() : rho < 1 - cfg.epsLow()) clipped[cls]++;
            }
        }
        for (long c : clipped) assertTrue(c > 0, "the fixture must clip every class");
        long valid = f.mask.sum().item_long();
        assertEquals((double) clipped[0] / tokens[0], m.get("pg_clipfrac_higher/adv_large"), 1e-12);
        assertEquals((double) clipped[1] / tokens[1], m.get("pg_clipfrac_higher/adv_small"), 1e-12);
        assertEquals((double) clipped[2] / tokens[2], m.get("pg_clipfrac_lower/adv_large"), 1e-12);
        assertEquals((double) clipped[3] / tokens[3], m.get("pg_clipfrac_lower/adv_small"), 1e-12);
        assertEquals((double) (tokens[0] + tokens[2]) / valid, m.get("adv_large/frac"), 1e-12);
    }

    @Test
    void logRatiosBeyondTheClampHaveZeroGradientAndFiniteLoss() {
        LossFixtures f = new LossFixtures(7, 4, 12, true, 30.0);   // |logp - old| often > 20
        PolicyLossConfig.Builder cfg = PolicyLossConfig.ppo().klEstimator(KlEstimator.K3).klBeta(0.1);
        PolicyLossResult fused = PolicyLoss.compute(f.inputs().build(), cfg.build());
        PolicyLossResult eager = PolicyLoss.compute(f.inputs64().build(), cfg.backend(KernelBackend.EAGER).build());
        assertTrue(Double.isFinite(fused.loss()));
        assertResultsClose(fused, eager);
        Tensor outside = f.logp.sub(f.old).abs().gt(s(20)).logical_and(f.mask);
        assertTrue(outside.any().item_bool(), "the fixture must cross the clamp");
        // Without KL, the clamp alone zeroes the gradient there.
        PolicyLossResult noKl = PolicyLoss.compute(f.inputs().build(), PolicyLossConfig.ppo().build());
        assertEquals(0.0, maxAbs(noKl.gradLogp().masked_select(outside)));
    }

    @Test
    void eagerReferenceMatchesFiniteDifferences() {
        LossFixtures f = new LossFixtures(8, 3, 5, false, 0.3);
        PolicyLossConfig cfg = PolicyLossConfig.aaac().klEstimator(KlEstimator.K3).klBeta(0.2)
                .aggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN).entropyCoef(0.05).backend(KernelBackend.EAGER).build();
        PolicyLossInputs base = f.inputs64().build();
        PolicyLossResult r = PolicyLoss.compute(base, cfg);
        double[] grad = TestTensors.values(r.gradLogp());
        double[] logp = TestTensors.values(base.logp());
        double h = 1e-6;
        for (int k = 0; k < logp.length; k++) {
            double[] plus = logp.clone();
            double[] minus = logp.clone();
            plus[k] += h;
            minus[k] -= h;
            double lp = PolicyLoss.compute(withLogp(base, TestTensors.doubles(plus, 3, 5)), cfg).loss();
            double lm = PolicyLoss.compute(withLogp(base, TestTensors.doubles(minus, 3, 5)), cfg).loss();
            assertEquals((lp - lm) / (2 * h), grad[k], 1e-6, "dloss/dlogp[" + k + "]");
        }
    }

    private static PolicyLossInputs withLogp(PolicyLossInputs base, Tensor logp) {
        return PolicyLossInputs.builder(logp, base.old(), base.adv(), base.mask()).ref(base.ref())
                .klWeights(base.klWeights()).entropy(base.entropy()).denominators(base.denominators())
                .advantageStats(base.advantageStats()).build();
    }

    @Test
    void microBatchesAccumulateToTheMiniBatchGradient() {
        for (Aggregation agg : Aggregation.values()) {
            LossFixtures f = new LossFixtures(9, 6, 8, false, 0.4);
            PolicyLossConfig cfg = PolicyLossConfig.clipHigher().aggregation(agg).klEstimator(KlEstimator.K2)
                    .klBeta(0.1).entropyCoef(0.02).build();
            PolicyLossResult full = PolicyLoss.compute(f.inputs().build(), cfg);
            Denominators d = Denominators.of(f.mask.narrow(0, 0, 2), f.mask.narrow(0, 2, 4));
            assertEquals(Denominators.of(f.mask), d);
            PolicyLossMetrics sums = PolicyLossMetrics.empty();
            List<Tensor> grads = new ArrayList<>();
            for (long[] range : new long[][] {{0, 2}, {2, 4}}) {
                PolicyLossInputs micro = PolicyLossInputs.builder(f.logp.narrow(0, range[0], range[1]),
                                f.old.narrow(0, range[0], range[1]), f.adv.narrow(0, range[0], range[1]),
                                f.mask.narrow(0, range[0], range[1]))
                        .ref(f.ref.narrow(0, range[0], range[1])).entropy(f.entropy.narrow(0, range[0], range[1]))
                        .klWeights(f.klWeights.narrow(0, range[0], range[1]))
                        .denominators(d).build();
                PolicyLossResult r = PolicyLoss.compute(micro, cfg);
                sums = sums.plus(r.metrics());
                grads.add(r.gradLogp());
            }
            Tensor accumulated = torch.cat(new TensorVector(grads.get(0), grads.get(1)), 0);
            assertTrue(maxAbsDiff(accumulated, full.gradLogp()) < 1e-7, agg.configName());
            assertEquals(full.loss(), sums.loss(), 1e-6, agg.configName());
            assertEquals(full.metrics().validTokens(), sums.validTokens());
            assertEquals(full.metricMap().get("pg_clipfrac"), sums.toMap().get("pg_clipfrac"), 1e-12);
        }
    }

    @Test
    void injectsTheGradientWhenLogpRequiresGrad() {
        LossFixtures f = new LossFixtures(10, 3, 6, false, 0.3);
        Tensor leaf = f.logp.clone().requires_grad_(true);
        Tensor entropyLeaf = f.entropy.clone().requires_grad_(true);
        PolicyLossConfig cfg = PolicyLossConfig.ppo().entropyCoef(0.1).build();
        PolicyLossResult r = PolicyLoss.compute(PolicyLossInputs.builder(leaf, f.old, f.adv, f.mask)
                .entropy(entropyLeaf).build(), cfg);
        assertTrue(r.backpropagated());
        assertTrue(TestTensors.bitwiseEqual(leaf.grad(), r.gradLogp()));
        assertTrue(TestTensors.bitwiseEqual(entropyLeaf.grad(), r.gradEntropy()));
        PolicyLossResult detached = PolicyLoss.compute(f.inputs().build(), cfg);
        assertFalse(detached.backpropagated());
    }

    @Test
    void fusedChainIntoLogitsMatchesFullAutograd() {
        torch.manual_seed(11);
        long b = 3;
        long t = 4;
        long v = 20;
        Tensor logits = torch.randn(b, t, v);
        Tensor targets = torch.randint(v, new long[] {b, t});
        Tensor old = torch.randn(b, t).mul(s(0.2)).sub(s(3.0));
        Tensor adv = torch.randn(b);
        Tensor mask = torch.rand(b, t).gt(s(0.2));
        PolicyLossConfig cfg = PolicyLossConfig.ppo().entropyCoef(0.01).build();

        Tensor fusedLogits = logits.clone().requires_grad_(true);
        LogProbs lp = TokenLogProbs.forward(fusedLogits, targets, 1.0, true);
        PolicyLossResult r = PolicyLoss.compute(PolicyLossInputs.builder(lp.logp(), old, adv, mask)
                .entropy(lp.entropy()).build(), cfg);
        lp.backward(r.gradLogp(), r.gradEntropy(), true);

        // Reference: float64, autograd all the way from the loss to the logits.
        Tensor refLogits = logits.to(ScalarType.Double).requires_grad_(true);
        Tensor z = torch.log_softmax(refLogits, 2);
        Tensor logp = z.gather(2, targets.unsqueeze(2)).squeeze(2);
        Tensor entropy = z.exp().mul(z).sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).neg();
        PolicyLossResult ref = PolicyLoss.compute(PolicyLossInputs.builder(logp, old.to(ScalarType.Double),
                adv.to(ScalarType.Double), mask).entropy(entropy).build(), cfg.toBuilder().backend(KernelBackend.EAGER).build());
        assertTrue(ref.backpropagated());
        assertEquals(ref.loss(), r.loss(), 1e-5);
        assertTrue(maxAbsDiff(fusedLogits.grad(), refLogits.grad()) < 1e-6);
    }

    @Test
    void maskPolicyCountsAndSkipsNonFiniteTokens() {
        LossFixtures f = new LossFixtures(12, 4, 6, false, 0.3);
        f.mask.select(0, 2).fill_(s(1));
        f.old.select(0, 2).select(0, 3).fill_(s(Double.NaN));
        f.old.select(0, 1).select(0, 0).fill_(s(Double.NaN));     // masked out: ignored
        PolicyLossConfig cfg = PolicyLossConfig.ppo().nonFinitePolicy(NonFinitePolicy.MASK).build();
        PolicyLossResult fused = PolicyLoss.compute(f.inputs().build(), cfg);
        PolicyLossResult eager = PolicyLoss.compute(f.inputs64().build(), cfg.toBuilder().backend(KernelBackend.EAGER).build());
        assertEquals(1.0, fused.metricMap().get("nonfinite_tokens"));
        assertEquals(1.0, eager.metricMap().get("nonfinite_tokens"));
        assertEquals(0.0, fused.gradLogp().select(0, 2).select(0, 3).item_double());
        assertTrue(Double.isFinite(fused.loss()));
        assertResultsClose(fused, eager);
    }

    @Test
    void allEmptyMiniBatchGivesZeroLossAndGradient() {
        LossFixtures f = new LossFixtures(13, 2, 3, false, 0.3);
        Tensor empty = torch.zeros(2, 3).to(ScalarType.Bool);
        for (Aggregation agg : Aggregation.values()) {
            PolicyLossResult r = PolicyLoss.compute(PolicyLossInputs.builder(f.logp, f.old, f.adv, empty).build(),
                    PolicyLossConfig.ppo().aggregation(agg).build());
            assertEquals(0.0, r.loss());
            assertEquals(0.0, maxAbs(r.gradLogp()));
            assertEquals(0.0, r.metricMap().get("pg_clipfrac"));
        }
    }

    @Test
    void floatMaskEqualsBoolMask() {
        LossFixtures f = new LossFixtures(14, 3, 5, true, 0.3);
        PolicyLossConfig cfg = PolicyLossConfig.ppo().aggregation(Aggregation.SEQ_MEAN_TOKEN_SUM).build();
        PolicyLossResult a = PolicyLoss.compute(f.inputs().build(), cfg);
        PolicyLossResult b = PolicyLoss.compute(PolicyLossInputs.builder(f.logp, f.old, f.adv,
                f.mask.to(ScalarType.Float)).build(), cfg);
        assertEquals(a.loss(), b.loss());
        assertTrue(TestTensors.bitwiseEqual(a.gradLogp(), b.gradLogp()));
    }

    @Test
    void bitwiseDeterministicAcrossRuns() {
        LossFixtures f = new LossFixtures(15, 64, 300, true, 0.5);
        PolicyLossConfig cfg = PolicyLossConfig.aaac().klEstimator(KlEstimator.K3).klBeta(0.01).entropyCoef(0.01).build();
        PolicyLossResult a = PolicyLoss.compute(f.inputs().build(), cfg);
        PolicyLossResult b = PolicyLoss.compute(f.inputs().build(), cfg);
        assertEquals(Double.doubleToRawLongBits(a.loss()), Double.doubleToRawLongBits(b.loss()));
        assertTrue(TestTensors.bitwiseEqual(a.gradLogp(), b.gradLogp()));
        assertEquals(a.metrics(), b.metrics());
    }

    @Test
    void customLossesRegisterByName() {
        String name = "test-ppo-doubled";
        if (!PolicyLossRegistry.names().contains(name)) {
            PolicyLossRegistry.register(name, (in, cfg) -> {
                PolicyLossResult r = PolicyLossRegistry.get("ppo").compute(in, cfg);
                return new PolicyLossResult(2 * r.loss(), r.gradLogp().mul(s(2)), null, r.metrics(), false);
            });
        }
        assertTrue(PolicyLossRegistry.names().containsAll(List.of("ppo", "clip-higher", "aaac", name)));
        LossFixtures f = new LossFixtures(16, 2, 4, false, 0.3);
        PolicyLossResult plain = PolicyLoss.compute(f.inputs().build(), PolicyLossConfig.ppo().build());
        PolicyLossResult doubled = PolicyLoss.compute(f.inputs().build(), PolicyLossConfig.ppo().lossMode(name).build());
        assertEquals(2 * plain.loss(), doubled.loss(), 1e-12);
        assertNull(doubled.gradEntropy());
    }

    @Test
    void advantageStatsAndDenominatorsFromMasks() {
        Tensor adv = TestTensors.doubles(new double[] {1, -2, 3}, 3);
        Tensor mask = TestTensors.doubles(new double[] {1, 1, 0, 0, 0, 0, 1, 0, 0}, 3, 3);
        AdvantageStats s = AdvantageStats.of(adv, mask);
        // valid tokens carry A = 1, 1, 3
        assertEquals(1.0, s.min());
        assertEquals(3.0, s.max());
        assertEquals(5.0 / 3, s.mean(), 1e-12);
        assertEquals(Math.sqrt((2 * Math.pow(1 - 5.0 / 3, 2) + Math.pow(3 - 5.0 / 3, 2)) / 3), s.std(), 1e-12);
        Denominators d = Denominators.of(mask);
        assertEquals(new Denominators(3, 2, 3, 3), d);
        assertEquals(3.0, d.forMode(Aggregation.TOKEN_MEAN));
        assertEquals(2.0, d.forMode(Aggregation.SEQ_MEAN_TOKEN_MEAN));
        assertEquals(9.0, d.forMode(Aggregation.SEQ_MEAN_TOKEN_SUM_NORM));
        assertEquals(30.0, d.withMaxLength(10).forMode(Aggregation.SEQ_MEAN_TOKEN_SUM_NORM));
    }

    @Test
    void aaacBoundFollowsTheNormalizedAdvantage() {
        // One token per response, rho far above every bound: eps_high/mean is the mean of the bounds.
        Tensor adv = TestTensors.floats(new double[] {-1, 0, 1, 3}, 4);
        Tensor logp = torch.zeros(4, 1);
        Tensor old = torch.zeros(4, 1);
        Tensor mask = torch.ones(4, 1);
        PolicyLossResult r = PolicyLoss.compute(PolicyLossInputs.builder(logp, old, adv, mask)
                .advantageStats(AdvantageStats.of(adv, mask)).build(), PolicyLossConfig.aaac().build());
        // A~ = 0, 0.25, 0.5, 1 -> eps_high = 0.20, 0.23, 0.26, 0.32
        assertEquals((0.20 + 0.23 + 0.26 + 0.32) / 4, r.metricMap().get("eps_high/mean"), 1e-6);
    }
}
