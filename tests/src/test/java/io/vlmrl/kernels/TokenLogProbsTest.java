package io.vlmrl.kernels;

import static io.vlmrl.kernels.TestTensors.maxAbs;
import static io.vlmrl.kernels.TestTensors.maxAbsDiff;
import static io.vlmrl.kernels.TestTensors.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fused token log-prob op against the eager LibTorch reference in float64. */
class TokenLogProbsTest {

    @BeforeAll
    static void threads() {
        torch.set_num_threads(2);
    }

    private static Tensor targetsFor(long vocab, long... shape) {
        return torch.randint(vocab, shape);
    }

    @ParameterizedTest
    @CsvSource({
        "1, 1, 1, 1.0",
        "5, 1, 37, 0.7",
        "3, 4, 3000, 1.0",   // V > the kernel's 2048-column block
        "2, 6, 129, 1.3",
    })
    void matchesFloat64ReferenceValuesAndGradients(long b, long t, long v, double temperature) {
        torch.manual_seed(b * 1000 + v);
        Tensor logits = torch.randn(b, t, v).mul(s(3.0));
        Tensor targets = targetsFor(v, b, t);
        TokenLogProbs fused = TokenLogProbs.forward(logits, targets, temperature, true);
        LogProbs reference = EagerTokenLogProbs.forward(logits.to(ScalarType.Double), targets, temperature, true,
                NonFinitePolicy.ERROR);

        assertEquals(ScalarType.Float, TensorChecks.dtype(fused.logp()));
        assertArrayEquals(new long[] {b, t}, TensorChecks.sizes(fused.logp()));
        assertTrue(maxAbsDiff(fused.logp(), reference.logp()) < 2e-5, "logp");
        assertTrue(maxAbsDiff(fused.entropy(), reference.entropy()) < 2e-5, "entropy");
        assertTrue(maxAbsDiff(fused.lse(), reference.lse()) < 2e-5, "lse");

        Tensor gLogp = torch.randn(b, t);
        Tensor gEntropy = torch.randn(b, t);
        Tensor g = fused.gradLogits(gLogp, gEntropy, false);
        Tensor gRef = reference.gradLogits(gLogp, gEntropy, false);
        // float32 kernel: log p is rounded to ~1e-7 relative of |z - lse| (up to ~20 here).
        double diff = maxAbsDiff(g, gRef);
        assertTrue(diff < 5e-6 * Math.max(1, maxAbs(gRef)), "dlogits differ by " + diff);
        // Only logp or only entropy upstream.
        assertGradClose(fused.gradLogits(gLogp, null, false), reference.gradLogits(gLogp, null, false));
        assertGradClose(fused.gradLogits(null, gEntropy, false), reference.gradLogits(null, gEntropy, false));
    }

    private static void assertGradClose(Tensor actual, Tensor expected) {
        double diff = maxAbsDiff(actual, expected);
        assertTrue(diff < 5e-6 * Math.max(1, maxAbs(expected)), "dlogits differ by " + diff);
    }

    @Test
    void twoDimensionalLogitsWithoutEntropy() {
        torch.manual_seed(3);
        Tensor logits = torch.randn(7, 50);
        Tensor targets = targetsFor(50, 7);
        TokenLogProbs fused = TokenLogProbs.forward(logits, targets, 1.0, false);
        Tensor expected = torch.log_softmax(logits.to(ScalarType.Double), 1).gather(1, targets.unsqueeze(1)).squeeze(1);
        assertTrue(maxAbsDiff(fused.logp(), expected) < 1e-5);
        assertEquals(null, fused.entropy());
        assertThrows(IllegalArgumentException.class, () -> fused.gradLogits(null, torch.ones(7), false));
    }

    @Test
    void eagerReferenceMatchesFiniteDifferences() {
        torch.manual_seed(4);
        Tensor logits = torch.randn(3, 6).to(ScalarType.Double);
        Tensor targets = targetsFor(6, 3);
        Tensor gLogp = torch.randn(3).to(ScalarType.Double);
        Tensor gEntropy = torch.randn(3).to(ScalarType.Double);
        double temperature = 0.8;
        Tensor grad = EagerTokenLogProbs.forward(logits, targets, temperature, true, NonFinitePolicy.ERROR)
                .gradLogits(gLogp, gEntropy, false);
        Tensor fusedGrad = TokenLogProbs.forward(logits.to(ScalarType.Float), targets, temperature, true)
                .gradLogits(gLogp, gEntropy, false);
        double h = 1e-6;
        double[] base = TestTensors.values(logits);
        double[] analytic = TestTensors.values(grad);
        double[] fused = TestTensors.values(fusedGrad);
        for (int k = 0; k < base.length; k++) {
            double[] plus = base.clone();
            double[] minus = base.clone();
            plus[k] += h;
            minus[k] -= h;
            double numeric = (objective(plus, targets, temperature, gLogp, gEntropy)
                    - objective(minus, targets, temperature, gLogp, gEntropy)) / (2 * h);
            assertEquals(numeric, analytic[k], 1e-7, "eager d/dlogits[" + k + "]");
            assertEquals(numeric, fused[k], 2e-6, "fused d/dlogits[" + k + "]");
        }
    }

    private static double objective(double[] logits, Tensor targets, double temperature, Tensor gLogp, Tensor gEntropy) {
        LogProbs lp = EagerTokenLogProbs.forward(TestTensors.doubles(logits, 3, 6), targets, temperature, true,
                NonFinitePolicy.ERROR);
        return lp.logp().mul(gLogp).sum().item_double() + lp.entropy().mul(gEntropy).sum().item_double();
    }

    @Test
    void stridedSliceNeedsNoCopyAndMatchesContiguous() {
        torch.manual_seed(5);
        Tensor full = torch.randn(3, 9, 40);
        Tensor sliced = full.narrow(1, 0, 8);            // [3, 8, 40], rows not evenly spaced
        assertFalse(sliced.is_contiguous());
        Tensor targets = targetsFor(40, 3, 8);
        TokenLogProbs a = TokenLogProbs.forward(sliced, targets, 1.0, true);
        TokenLogProbs b = TokenLogProbs.forward(sliced.contiguous(), targets, 1.0, true);
        assertTrue(TestTensors.bitwiseEqual(a.logp(), b.logp()));
        assertTrue(TestTensors.bitwiseEqual(a.entropy(), b.entropy()));
        Tensor g = torch.randn(3, 8);
        Tensor ga = a.gradLogits(g, null, false);
        assertArrayEquals(new long[] {3, 8, 40}, TensorChecks.sizes(ga));
        assertTrue(TestTensors.bitwiseEqual(ga.contiguous(), b.gradLogits(g, null, false)));

        // A padded row stride in 2-D: [N, V] view of [N, V + 5].
        Tensor padded = torch.randn(6, 45).narrow(1, 0, 40);
        Tensor t2 = targetsFor(40, 6);
        assertTrue(TestTensors.bitwiseEqual(TokenLogProbs.forward(padded, t2, 1.0, false).logp(),
                TokenLogProbs.forward(padded.contiguous(), t2, 1.0, false).logp()));
    }

    @Test
    void bf16LogitsMatchReferenceOnTheSameValues() {
        torch.manual_seed(6);
        Tensor logits = torch.randn(4, 5, 300).mul(s(2.0)).to(ScalarType.BFloat16);
        Tensor targets = targetsFor(300, 4, 5);
        TokenLogProbs fused = TokenLogProbs.forward(logits, targets, 1.0, true);
        LogProbs reference = EagerTokenLogProbs.forward(logits.to(ScalarType.Double), targets, 1.0, true,
                NonFinitePolicy.ERROR);
        assertTrue(maxAbsDiff(fused.logp(), reference.logp()) < 2e-5);
        assertTrue(maxAbsDiff(fused.entropy(), reference.entropy()) < 2e-5);
        Tensor g = torch.randn(4, 5);
        Tensor grad = fused.gradLogits(g, g, false);
        assertEquals(ScalarType.BFloat16, TensorChecks.dtype(grad));
        Tensor gRef = reference.gradLogits(g, g, false);
        // bf16 keeps 8 bits of mantissa: relative 2^-8 of the largest gradient.
        assertTrue(maxAbsDiff(grad, gRef) <= maxAbs(gRef) / 128, "bf16 gradient");
    }

    @Test
    void inPlaceBackwardOverwritesLogitsAndGivesTheSameParameterGradient() {
        torch.manual_seed(7);
        Tensor hidden = torch.randn(6, 16);
        Tensor weight = torch.randn(16, 30).requires_grad_(true);
        Tensor targets = targetsFor(30, 6);
        Tensor g = torch.randn(6);

        Tensor logits1 = hidden.matmul(weight);
        TokenLogProbs.forward(logits1, targets, 1.0, true).backward(g, g, false);
        Tensor expected = weight.grad().clone();
        weight.grad().zero_();

        Tensor logits2 = hidden.matmul(weight);
        long version = logits2._version();
        TokenLogProbs op = TokenLogProbs.forward(logits2, targets, 1.0, true);
        Tensor before = logits2.detach().clone();
        op.backward(g, g, true);
        assertTrue(maxAbsDiff(weight.grad(), expected) < 1e-5);
        assertNotEquals(version, logits2._version(), "in-place write must bump the version counter");
        assertFalse(TestTensors.bitwiseEqual(before, logits2.detach()), "logits storage holds the gradient");
        assertThrows(IllegalStateException.class, () -> op.gradLogits(g, null, false));
    }

    @Test
    void inPlaceIsRefusedForALeafThatRequiresGrad() {
        torch.manual_seed(8);
        Tensor logits = torch.randn(4, 10).requires_grad_(true);
        Tensor before = logits.detach().clone();
        Tensor targets = targetsFor(10, 4);
        TokenLogProbs.forward(logits, targets, 1.0, false).backward(torch.ones(4), null, true);
        assertTrue(TestTensors.bitwiseEqual(before, logits.detach()), "a leaf's values are never overwritten");
        Tensor expected = torch.softmax(before, 1).neg();
        expected = expected.scatter_add(1, targets.unsqueeze(1), torch.ones(4, 1));
        assertTrue(maxAbsDiff(logits.grad(), expected) < 1e-6);
    }

    @Test
    void inPlaceWriteIsDetectedByAutogradWhenAnotherNodeSavedTheLogits() {
        torch.manual_seed(9);
        Tensor weight = torch.randn(8, 12).requires_grad_(true);
        Tensor logits = torch.randn(5, 8).matmul(weight);
        Tensor other = logits.mul(logits).sum();           // mul saves the logits
        Tensor targets = targetsFor(12, 5);
        TokenLogProbs.forward(logits, targets, 1.0, false).gradLogits(torch.ones(5), null, true);
        assertThrows(RuntimeException.class, other::backward);
    }

    @Test
    void modifiedLogitsAreRejectedAtBackward() {
        Tensor logits = torch.randn(3, 7);
        TokenLogProbs op = TokenLogProbs.forward(logits, targetsFor(7, 3), 1.0, false);
        logits.add_(s(1.0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> op.gradLogits(torch.ones(3), null, false));
        assertTrue(e.getMessage().contains("modified since the forward"), e.getMessage());
    }

    @Test
    void nonFiniteLogitsAreReportedWithTheirIndex() {
        Tensor logits = torch.randn(2, 4, 50);
        logits.select(0, 1).select(0, 3).select(0, 42).fill_(s(Double.NaN));
        Tensor targets = targetsFor(50, 2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(logits, targets, 1.0, true));
        assertEquals("logits[1, 3, 42] is NaN", e.getMessage());
        IllegalArgumentException eager = assertThrows(IllegalArgumentException.class,
                () -> EagerTokenLogProbs.forward(logits, targets, 1.0, true, NonFinitePolicy.ERROR));
        assertEquals("logits[1, 3, 42] is NaN", eager.getMessage());

        Tensor inf = torch.randn(3, 5);
        inf.select(0, 2).select(0, 1).fill_(s(Double.POSITIVE_INFINITY));
        assertEquals("logits[2, 1] is Infinity", assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(inf, targetsFor(5, 3), 1.0, false)).getMessage());
    }

    @Test
    void maskPolicyZeroesAndCountsNonFiniteRows() {
        torch.manual_seed(10);
        Tensor logits = torch.randn(4, 20);
        logits.select(0, 2).select(0, 5).fill_(s(Double.NaN));
        Tensor targets = targetsFor(20, 4);
        TokenLogProbs fused = TokenLogProbs.forward(logits, targets, 1.0, true, NonFinitePolicy.MASK);
        LogProbs eager = EagerTokenLogProbs.forward(logits, targets, 1.0, true, NonFinitePolicy.MASK);
        assertEquals(1, fused.nonFiniteRows());
        assertEquals(1, eager.nonFiniteRows());
        assertEquals(0.0, fused.logp().get(2).item_double());
        assertEquals(0.0, fused.entropy().get(2).item_double());
        assertTrue(maxAbsDiff(fused.logp(), eager.logp()) < 1e-5);
        Tensor grad = fused.gradLogits(torch.ones(4), torch.ones(4), false);
        assertEquals(0.0, maxAbs(grad.select(0, 2)));
        assertTrue(maxAbsDiff(grad, eager.gradLogits(torch.ones(4), torch.ones(4), false)) < 1e-6);
        // -Inf logits are allowed: probability 0.
        Tensor masked = torch.randn(2, 6);
        masked.select(0, 0).select(0, 1).fill_(s(Double.NEGATIVE_INFINITY));
        Tensor t = TestTensors.floats(new double[] {0, 0}, 2).to(ScalarType.Long);
        TokenLogProbs ok = TokenLogProbs.forward(masked, t, 1.0, true);
        assertEquals(0, ok.nonFiniteRows());
        assertTrue(Double.isFinite(ok.entropy().sum().item_double()));
    }

    @Test
    void badArgumentsNameTheArgument() {
        Tensor logits = torch.randn(2, 3, 10);
        Tensor targets = targetsFor(10, 2, 3);
        assertEquals("targets: expected shape [2, 3] (logits' shape without the last dimension), got [2, 4]",
                assertThrows(IllegalArgumentException.class,
                        () -> TokenLogProbs.forward(logits, targetsFor(10, 2, 4), 1.0, false)).getMessage());
        assertEquals("targets: expected dtype int64, got int32", assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(logits, targets.to(ScalarType.Int), 1.0, false)).getMessage());
        assertEquals("logits: expected dtype one of [float32, bfloat16], got float64",
                assertThrows(IllegalArgumentException.class,
                        () -> TokenLogProbs.forward(logits.to(ScalarType.Double), targets, 1.0, false)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(logits, targets, 0.0, false)).getMessage().startsWith("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(logits.transpose(1, 2), targetsFor(3, 2, 10), 1.0, false))
                .getMessage().startsWith("logits: expected a contiguous last dimension"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(torch.randn(10), targetsFor(10, 1), 1.0, false))
                .getMessage().startsWith("logits: expected 2 dimensions"));
        Tensor outOfRange = targets.clone();
        outOfRange.select(0, 1).select(0, 2).fill_(s(10));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenLogProbs.forward(logits, outOfRange, 1.0, false)).getMessage().contains("targets"));
        assertEquals("targets[1, 2]: expected a token id in [0, 10), got 10", assertThrows(IllegalArgumentException.class,
                () -> EagerTokenLogProbs.forward(logits, outOfRange, 1.0, false, NonFinitePolicy.ERROR)).getMessage());
        TokenLogProbs op = TokenLogProbs.forward(logits, targets, 1.0, false);
        assertEquals("gradLogp: expected shape [2, 3] (shape of targets), got [6]", assertThrows(
                IllegalArgumentException.class, () -> op.gradLogits(torch.ones(6), null, false)).getMessage());
        assertThrows(IllegalStateException.class, () -> op.backward(torch.ones(2, 3), null, false));
    }

    @Test
    void emptyBatchIsFine() {
        Tensor logits = torch.randn(0, 10);
        TokenLogProbs op = TokenLogProbs.forward(logits, targetsFor(10, 0), 1.0, true);
        assertEquals(0, op.logp().numel());
        assertEquals(0, op.gradLogits(torch.ones(0), null, false).numel());
    }

    @Test
    void bitwiseDeterministicAcrossRuns() {
        torch.manual_seed(11);
        Tensor logits = torch.randn(16, 3000);
        Tensor targets = targetsFor(3000, 16);
        Tensor g = torch.randn(16);
        TokenLogProbs a = TokenLogProbs.forward(logits, targets, 0.9, true);
        TokenLogProbs b = TokenLogProbs.forward(logits, targets, 0.9, true);
        assertTrue(TestTensors.bitwiseEqual(a.logp(), b.logp()));
        assertTrue(TestTensors.bitwiseEqual(a.entropy(), b.entropy()));
        assertTrue(TestTensors.bitwiseEqual(a.gradLogits(g, g, false), b.gradLogits(g, g, false)));
    }

    @Test
    void nativeLibraryLoadsWithoutCuda() {
        assertTrue(NativeKernels.vlmrl_cuda_device_count() >= 0);
        assertTrue(NativeKernels.vlmrl_cuda_compiled() == 0 || NativeKernels.vlmrl_cuda_compiled() == 1);
        Tensor a = torch.zeros(100);
        Tensor b = torch.ones(100);
        Tensor c = torch.full(new long[] {100}, s(2.0));
        NativeKernels.vlmrl_stream_triad_cpu(a.data_ptr(), b.data_ptr(), c.data_ptr(), 3.0f, 100);
        assertEquals(7.0, a.min().item_double());
        assertEquals(7.0, a.max().item_double());
    }
}
