package io.vlmrl.kernels;

import static io.vlmrl.kernels.TestTensors.maxAbs;
import static io.vlmrl.kernels.TestTensors.maxAbsDiff;
import static io.vlmrl.kernels.TestTensors.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused LM head log-probs ({@link LmHeadLogProbs}) against a plain LibTorch autograd
 * reference in float64: logits = h · Wᵀ / T, log_softmax, gather, entropy, backward.
 */
class LmHeadLogProbsTest {

    private PointerScope scope;

    @BeforeAll
    static void threads() {
        torch.set_num_threads(2);
    }

    @BeforeEach
    void openScope() {
        scope = new PointerScope();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    /** Values and gradients of the float64 reference for the objective sum(gLogp·logp) + sum(gEnt·H). */
    private record Reference(Tensor logp, Tensor entropy, Tensor gradHidden, Tensor gradWeight) {
    }

    private static Reference reference(Tensor hidden, Tensor weight, Tensor targets, double temperature,
                                       Tensor gLogp, Tensor gEntropy) {
        Tensor h = hidden.detach().to(ScalarType.Double).requires_grad_(true);
        Tensor w = weight.detach().to(ScalarType.Double).requires_grad_(true);
        Tensor z = torch.matmul(h, w.t()).div(s(temperature));
        Tensor logSoftmax = torch.log_softmax(z, -1);
        Tensor logp = logSoftmax.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
        Tensor entropy = logSoftmax.exp().mul(logSoftmax).sum(new long[] {-1}, false, new ScalarTypeOptional()).neg();
        Tensor objective = logp.mul(gLogp.to(ScalarType.Double)).sum();
        if (gEntropy != null) {
            objective = objective.add(entropy.mul(gEntropy.to(ScalarType.Double)).sum());
        }
        objective.backward();
        return new Reference(logp.detach(), entropy.detach(), h.grad(), w.grad());
    }

    private static void assertClose(String what, Tensor actual, Tensor expected, double relative) {
        double diff = maxAbsDiff(actual, expected);
        double bound = relative * Math.max(1e-3, maxAbs(expected));
        assertTrue(diff <= bound, what + " differs by " + diff + " (bound " + bound + ")");
    }

    @ParameterizedTest(name = "N={0} D={1} V={2} T={3} chunk={4}")
    @CsvSource({
        "1, 8, 5, 1.0, 0",
        "13, 16, 37, 0.7, 4",      // chunk does not divide N
        "13, 16, 37, 0.7, 1",      // one row per chunk
        "13, 16, 37, 0.7, 100",    // chunk larger than N
        "40, 24, 3000, 1.3, 7",    // V larger than the kernel's column block
        "64, 32, 513, 1.0, 0",     // default chunk (all rows in one)
    })
    void matchesFloat64ReferenceValuesAndGradients(long n, long d, long v, double temperature, long chunk) {
        torch.manual_seed(n * 31 + v);
        Tensor hidden = torch.randn(n, d);
        Tensor weight = torch.randn(v, d).mul(s(0.5));
        Tensor targets = torch.randint(v, new long[] {n});
        Tensor gLogp = torch.randn(n);
        Tensor gEntropy = torch.randn(n);
        Reference ref = reference(hidden, weight, targets, temperature, gLogp, gEntropy);

        LmHeadLogProbs op = LmHeadLogProbs.forward(hidden, weight, targets, temperature, true, chunk,
                NonFinitePolicy.ERROR);
        assertEquals(ScalarType.Float, TensorChecks.dtype(op.logp()));
        assertArrayEquals(new long[] {n}, TensorChecks.sizes(op.logp()));
        assertClose("logp", op.logp(), ref.logp(), 2e-5);
        assertClose("entropy", op.entropy(), ref.entropy(), 2e-5);

        LmHeadLogProbs.Gradients g = op.gradients(gLogp, gEntropy);
        assertClose("dL/dh", g.hidden(), ref.gradHidden(), 2e-5);
        assertClose("dL/dW", g.weight(), ref.gradWeight(), 2e-5);

        // The autograd form on leaves gives the same gradients.
        Tensor h = hidden.clone().requires_grad_(true);
        Tensor w = weight.clone().requires_grad_(true);
        LmHeadLogProbs.forward(h, w, targets, temperature, true, chunk, NonFinitePolicy.ERROR).backward(gLogp, gEntropy);
        assertClose("h.grad", h.grad(), ref.gradHidden(), 2e-5);
        assertClose("W.grad", w.grad(), ref.gradWeight(), 2e-5);
    }

    @Test
    void threeDimensionalNonContiguousHiddenWithoutEntropy() {
        torch.manual_seed(2);
        Tensor full = torch.randn(3, 9, 12);
        Tensor hidden = full.narrow(1, 2, 5);               // [3, 5, 12], rows not evenly spaced
        assertFalse(hidden.is_contiguous());
        Tensor weight = torch.randn(50, 12).mul(s(0.5));
        Tensor targets = torch.randint(50, new long[] {3, 5});
        Tensor gLogp = torch.randn(3, 5);
        Reference ref = reference(hidden, weight, targets, 1.0, gLogp, null);

        Tensor leaf = full.clone().requires_grad_(true);
        Tensor w = weight.clone().requires_grad_(true);
        LmHeadLogProbs op = LmHeadLogProbs.forward(leaf.narrow(1, 2, 5), w, targets, 1.0, false, 4,
                NonFinitePolicy.ERROR);
        assertNull(op.entropy());
        assertArrayEquals(new long[] {3, 5}, TensorChecks.sizes(op.logp()));
        assertClose("logp", op.logp(), ref.logp(), 2e-5);
        assertThrows(IllegalArgumentException.class, () -> op.gradients(gLogp, torch.ones(3, 5)));
        op.backward(gLogp, null);
        assertClose("h.grad", leaf.grad().narrow(1, 2, 5), ref.gradHidden(), 2e-5);
        assertEquals(0.0, maxAbs(leaf.grad().narrow(1, 0, 2)), "rows outside the slice get no gradient");
        assertClose("W.grad", w.grad(), ref.gradWeight(), 2e-5);
    }

    /**
     * W tied to the token embedding: h = tanh(embedding(W, ids) · A), so W gets gradient both
     * through h's graph and as the LM head. Both must add up in W.grad, accumulated on top of
     * a gradient already there (as over micro-batches).
     */
    @ParameterizedTest(name = "chunk={0}")
    @CsvSource({"3", "0"})
    void tiedEmbeddingGetsBothGradients(long chunk) {
        torch.manual_seed(3);
        long b = 2, t = 7, d = 16, v = 40;
        Tensor embedding = torch.randn(v, d).mul(s(0.5));
        Tensor mix = torch.randn(d, d).mul(s(0.3));
        Tensor ids = torch.randint(v, new long[] {b, t});
        Tensor targets = torch.randint(v, new long[] {b, t});
        Tensor gLogp = torch.randn(b, t);
        Tensor gEntropy = torch.randn(b, t);
        double temperature = 0.9;

        // float64 reference through the whole graph.
        Tensor e64 = embedding.to(ScalarType.Double).requires_grad_(true);
        Tensor m64 = mix.to(ScalarType.Double).requires_grad_(true);
        Tensor h64 = torch.tanh(torch.matmul(torch.embedding(e64, ids), m64));
        Tensor z = torch.matmul(h64, e64.t()).div(s(temperature));
        Tensor ls = torch.log_softmax(z, -1);
        Tensor logp = ls.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
        Tensor entropy = ls.exp().mul(ls).sum(new long[] {-1}, false, new ScalarTypeOptional()).neg();
        logp.mul(gLogp.to(ScalarType.Double)).sum().add(entropy.mul(gEntropy.to(ScalarType.Double)).sum()).backward();

        Tensor e = embedding.clone().requires_grad_(true);
        Tensor m = mix.clone().requires_grad_(true);
        Tensor earlier = torch.randn(v, d);
        e.mutable_grad().put(earlier.clone());                 // a previous micro-batch's gradient
        Tensor h = torch.tanh(torch.matmul(torch.embedding(e, ids), m));
        LmHeadLogProbs op = LmHeadLogProbs.forward(h, e, targets, temperature, true, chunk, NonFinitePolicy.ERROR);
        assertClose("logp", op.logp(), logp.detach(), 2e-5);
        op.backward(gLogp, gEntropy);
        assertClose("tied W.grad (head + embedding)", e.grad().sub(earlier), e64.grad(), 2e-5);
        assertClose("upstream weight grad", m.grad(), m64.grad(), 2e-5);
        // The embedding path alone would miss the head's share.
        Tensor headOnly = reference(h.detach(), embedding, targets, temperature, gLogp, gEntropy).gradWeight();
        assertTrue(maxAbs(headOnly) > 1e-3 && maxAbs(e64.grad().sub(headOnly)) > 1e-3,
                "both contributions are non-trivial");
    }

    @Test
    void frozenHeadGetsNoGradientAndNonLeafHeadGetsItsGraph() {
        torch.manual_seed(4);
        Tensor hidden = torch.randn(9, 8);
        Tensor weight = torch.randn(30, 8);
        Tensor targets = torch.randint(30, new long[] {9});
        Tensor gLogp = torch.randn(9);
        Reference ref = reference(hidden, weight, targets, 1.0, gLogp, null);

        Tensor h = hidden.clone().requires_grad_(true);
        Tensor frozen = weight.clone();
        LmHeadLogProbs.forward(h, frozen, targets, 1.0, false, 2, NonFinitePolicy.ERROR).backward(gLogp, null);
        assertClose("h.grad", h.grad(), ref.gradHidden(), 2e-5);
        assertTrue(frozen.grad() == null || !frozen.grad().defined(), "a frozen head gets no gradient");

        // W = 2 * param (not a leaf): the gradient reaches param through W's graph.
        Tensor param = weight.div(s(2.0)).requires_grad_(true);
        Tensor w = param.mul(s(2.0));
        Tensor hiddenLeaf = hidden.clone();
        LmHeadLogProbs.forward(hiddenLeaf, w, targets, 1.0, false, 4, NonFinitePolicy.ERROR).backward(gLogp, null);
        assertClose("param.grad", param.grad(), ref.gradWeight().mul(s(2.0)), 2e-5);

        assertThrows(IllegalStateException.class, () -> LmHeadLogProbs.forward(hidden, weight, targets, 1.0, false)
                .backward(gLogp, null), "neither requires grad");
    }

    @Test
    void onePassEqualsForwardThenBackwardAndSeesEachChunkInOrder() {
        torch.manual_seed(5);
        long n = 11, d = 12, v = 70;
        Tensor hidden = torch.randn(n, d);
        Tensor weight = torch.randn(v, d).mul(s(0.5));
        Tensor targets = torch.randint(v, new long[] {n});
        Tensor gLogp = torch.randn(n);
        Tensor gEntropy = torch.randn(n);
        double temperature = 1.2;

        Tensor h1 = hidden.clone().requires_grad_(true);
        Tensor w1 = weight.clone().requires_grad_(true);
        LmHeadLogProbs twoCalls = LmHeadLogProbs.forward(h1, w1, targets, temperature, true, 3, NonFinitePolicy.ERROR);
        twoCalls.backward(gLogp, gEntropy);
        assertThrows(IllegalStateException.class, () -> twoCalls.backward(gLogp, gEntropy), "one backward per forward");

        Tensor h2 = hidden.clone().requires_grad_(true);
        Tensor w2 = weight.clone().requires_grad_(true);
        List<long[]> chunks = new ArrayList<>();
        LmHeadLogProbs onePass = LmHeadLogProbs.forwardBackward(h2, w2, targets, temperature, true, 3,
                NonFinitePolicy.ERROR, (start, logp, entropy) -> {
                    chunks.add(new long[] {start, logp.numel()});
                    // The chunk's values are final when the callback sees them.
                    assertTrue(torch.equal(logp, twoCalls.logp().narrow(0, start, logp.numel())));
                    return new LmHeadLogProbs.Upstream(gLogp.narrow(0, start, logp.numel()),
                            gEntropy.narrow(0, start, logp.numel()));
                });
        assertEquals(List.of("0+3", "3+3", "6+3", "9+2"), chunks.stream().map(c -> c[0] + "+" + c[1]).toList());
        assertTrue(torch.equal(onePass.logp(), twoCalls.logp()));
        assertTrue(torch.equal(onePass.entropy(), twoCalls.entropy()));
        assertClose("h.grad", h2.grad(), h1.grad(), 1e-6);
        assertClose("W.grad", w2.grad(), w1.grad(), 1e-6);
        assertThrows(IllegalStateException.class, () -> onePass.backward(gLogp, null), "already back-propagated");

        var bad = assertThrows(IllegalArgumentException.class, () -> LmHeadLogProbs.forwardBackward(
                hidden.clone().requires_grad_(true), weight, targets, 1.0, true, 4, NonFinitePolicy.ERROR,
                (start, logp, entropy) -> new LmHeadLogProbs.Upstream(torch.ones(2), null)));
        assertEquals("gradLogp: expected 4 values for the chunk of rows [0, 4), got shape [2]", bad.getMessage());
    }

    /** bf16 h and W: logits are rounded to bf16 like h.matmul(W.t()) in bf16, dW accumulates in bf16. */
    @Test
    void bf16MatchesReferenceOnTheSameValuesWithinDocumentedTolerance() {
        torch.manual_seed(6);
        long n = 24, d = 32, v = 700;
        Tensor hidden = torch.randn(n, d).to(ScalarType.BFloat16);
        Tensor weight = torch.randn(v, d).mul(s(0.3)).to(ScalarType.BFloat16);
        Tensor targets = torch.randint(v, new long[] {n});
        Tensor gLogp = torch.randn(n);
        Tensor gEntropy = torch.randn(n);
        Reference ref = reference(hidden, weight, targets, 0.8, gLogp, gEntropy);
        Tensor h = hidden.clone().requires_grad_(true);
        Tensor w = weight.clone().requires_grad_(true);
        LmHeadLogProbs op = LmHeadLogProbs.forward(h, w, targets, 0.8, true, 5, NonFinitePolicy.ERROR);
        // A logit of magnitude |z| is rounded by up to |z| 2^-9; logp and H move by about that.
        double maxLogit = maxAbs(torch.matmul(hidden.to(ScalarType.Double), weight.to(ScalarType.Double).t())) / 0.8;
        double valueBound = maxLogit * Math.pow(2, -8);
        assertTrue(maxAbsDiff(op.logp(), ref.logp()) < valueBound, "bf16 logp");
        assertTrue(maxAbsDiff(op.entropy(), ref.entropy()) < valueBound, "bf16 entropy");
        op.backward(gLogp, gEntropy);
        assertEquals(ScalarType.BFloat16, TensorChecks.dtype(w.grad()));
        assertClose("bf16 h.grad", h.grad(), ref.gradHidden(), 3e-2);
        assertClose("bf16 W.grad", w.grad(), ref.gradWeight(), 3e-2);
    }

    @Test
    void nonFiniteRowsRaiseNamingTheLogitOrAreMasked() {
        torch.manual_seed(7);
        Tensor hidden = torch.randn(2, 4, 6);
        hidden.select(0, 1).select(0, 2).select(0, 0).fill_(s(Double.NaN));
        Tensor weight = torch.randn(20, 6);
        Tensor targets = torch.randint(20, new long[] {2, 4});
        var e = assertThrows(IllegalArgumentException.class,
                () -> LmHeadLogProbs.forward(hidden, weight, targets, 1.0, true, 3, NonFinitePolicy.ERROR));
        assertEquals("logits[1, 2, 0] = hidden[1, 2, :] · lmHeadWeight[0, :] is NaN", e.getMessage());

        Tensor h = hidden.clone().requires_grad_(true);
        Tensor w = weight.clone().requires_grad_(true);
        LmHeadLogProbs masked = LmHeadLogProbs.forward(h, w, targets, 1.0, true, 3, NonFinitePolicy.MASK);
        assertEquals(1, masked.nonFiniteRows());
        assertEquals(0.0, masked.logp().get(1).get(2).item_double());
        assertEquals(0.0, masked.entropy().get(1).get(2).item_double());
        Tensor clean = hidden.clone();
        clean.select(0, 1).select(0, 2).zero_();
        Tensor gLogp = torch.randn(2, 4);
        Tensor gOthers = gLogp.clone();
        gOthers.select(0, 1).select(0, 2).zero_();
        Reference ref = reference(clean, weight, targets, 1.0, gOthers, null);
        masked.backward(gLogp, null);
        assertEquals(0.0, maxAbs(h.grad().select(0, 1).select(0, 2)), "the masked row gets no gradient");
        assertClose("h.grad of the other rows", h.grad(), ref.gradHidden(), 2e-5);
        assertClose("W.grad without the masked row", w.grad(), ref.gradWeight(), 2e-5);
    }

    @Test
    void badArgumentsAreNamed() {
        Tensor hidden = torch.randn(3, 4);
        Tensor weight = torch.randn(10, 4);
        Tensor targets = torch.tensor(new long[] {1, 2, 3});
        assertEquals("lmHeadWeight: expected shape [V, 4] (D from hidden), got [10, 5]",
                assertThrows(IllegalArgumentException.class,
                        () -> LmHeadLogProbs.forward(hidden, torch.randn(10, 5), targets, 1.0, true)).getMessage());
        assertEquals("lmHeadWeight: expected dtype float32 (same as hidden), got bfloat16",
                assertThrows(IllegalArgumentException.class, () -> LmHeadLogProbs.forward(hidden,
                        weight.to(ScalarType.BFloat16), targets, 1.0, true)).getMessage());
        assertEquals("hidden: expected dtype one of [float32, bfloat16], got float64",
                assertThrows(IllegalArgumentException.class, () -> LmHeadLogProbs.forward(
                        hidden.to(ScalarType.Double), weight.to(ScalarType.Double), targets, 1.0, true)).getMessage());
        assertEquals("targets[2]: expected a token id in [0, 10), got 10",
                assertThrows(IllegalArgumentException.class, () -> LmHeadLogProbs.forward(hidden, weight,
                        torch.tensor(new long[] {0, 9, 10}), 1.0, true)).getMessage());
        assertEquals("targets: expected shape [3] (hidden's shape without the last dimension), got [2]",
                assertThrows(IllegalArgumentException.class, () -> LmHeadLogProbs.forward(hidden, weight,
                        torch.tensor(new long[] {0, 1}), 1.0, true)).getMessage());
        assertEquals("chunkTokens: expected >= 1, or 0 for the default, got -1",
                assertThrows(IllegalArgumentException.class, () -> LmHeadLogProbs.forward(hidden, weight, targets,
                        1.0, true, -1, NonFinitePolicy.ERROR)).getMessage());
        assertEquals("temperature: expected a finite value > 0, got 0.0",
                assertThrows(IllegalArgumentException.class,
                        () -> LmHeadLogProbs.forward(hidden, weight, targets, 0.0, true)).getMessage());
        LmHeadLogProbs op = LmHeadLogProbs.forward(hidden, weight, targets, 1.0, true);
        assertEquals("gradLogp: expected shape [3] (shape of targets), got [4]",
                assertThrows(IllegalArgumentException.class, () -> op.gradients(torch.ones(4), null)).getMessage());
    }

    @Test
    void backwardRefusesWeightsChangedSinceTheForward() {
        Tensor h = torch.randn(4, 3).requires_grad_(true);
        Tensor w = torch.randn(6, 3).requires_grad_(true);
        LmHeadLogProbs op = LmHeadLogProbs.forward(h, w, torch.tensor(new long[] {0, 1, 2, 3}), 1.0, false);
        try (NoGradGuard noGrad = new NoGradGuard()) {
            w.add_(new Scalar(0.1));
        }
        var e = assertThrows(IllegalStateException.class, () -> op.backward(torch.ones(4), null));
        assertTrue(e.getMessage().startsWith("hidden, lmHeadWeight: modified since the forward"), e.getMessage());
    }

    @Test
    void defaultChunkHoldsAbout128MiBOfLogits() {
        assertEquals(220, LmHeadLogProbs.defaultChunkTokens(151936, ScalarType.Float));
        assertEquals(441, LmHeadLogProbs.defaultChunkTokens(151936, ScalarType.BFloat16));
        assertEquals(1, LmHeadLogProbs.defaultChunkTokens(1L << 40, ScalarType.Float));
    }

    @Test
    void eagerReferencePathMatchesTheFloat64Reference() {
        torch.manual_seed(8);
        Tensor hidden = torch.randn(2, 5, 8);
        Tensor weight = torch.randn(33, 8).mul(s(0.5));
        Tensor targets = torch.randint(33, new long[] {2, 5});
        Tensor gLogp = torch.randn(2, 5);
        Tensor gEntropy = torch.randn(2, 5);
        Reference ref = reference(hidden, weight, targets, 0.7, gLogp, gEntropy);
        Tensor h = hidden.clone().requires_grad_(true);
        Tensor w = weight.clone().requires_grad_(true);
        EagerLmHeadLogProbs eager = EagerLmHeadLogProbs.forward(h, w, targets, 0.7, true, NonFinitePolicy.ERROR);
        assertArrayEquals(new long[] {2, 5, 33}, TensorChecks.sizes(eager.logits()));
        assertClose("eager logp", eager.logp(), ref.logp(), 2e-5);
        assertClose("eager entropy", eager.entropy(), ref.entropy(), 2e-5);
        eager.backward(gLogp, gEntropy);
        assertClose("eager h.grad", h.grad(), ref.gradHidden(), 2e-5);
        assertClose("eager W.grad", w.grad(), ref.gradWeight(), 2e-5);
    }
}
