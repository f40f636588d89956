package io.vlmrl.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The APO/DAPO/GRPO helpers against hand-computed values. */
class AlgoTest {

    @Test
    void grpoUsesUnbiasedStdAndIsZeroForSingletonGroups() {
        // rewards 1, 0, 0, 1: mean 0.5, unbiased std sqrt(1/3)
        double std = Math.sqrt(1.0 / 3);
        double a = 0.5 / (std + 1e-6);
        assertArrayEquals(new double[] {a, -a, -a, a}, Advantages.grpo(new double[] {1, 0, 0, 1}), 1e-12);
        assertArrayEquals(new double[] {0}, Advantages.grpo(new double[] {0.7}), 0);
        assertArrayEquals(new double[] {0, 0, 0}, Advantages.grpo(new double[] {1, 1, 1}), 0);
        assertArrayEquals(new double[] {0, 0}, Advantages.compute("grpo", new double[] {3, 5}, 1), 0);
    }

    @Test
    void drgrpoAndRloo() {
        assertArrayEquals(new double[] {1.5, -0.5, -0.5, -0.5}, Advantages.drgrpo(new double[] {2, 0, 0, 0}), 1e-12);
        // rloo: r_i - mean of the others; 2 - 0 = 2, 0 - 2/3
        assertArrayEquals(new double[] {2, -2.0 / 3, -2.0 / 3, -2.0 / 3}, Advantages.rloo(new double[] {2, 0, 0, 0}), 1e-12);
        assertArrayEquals(new double[] {0}, Advantages.rloo(new double[] {4}), 0);
    }

    @Test
    void batchesAreGroupsOfConsecutiveResponses() {
        double[] out = Advantages.compute("drgrpo", new double[] {1, 3, 10, 20}, 2);
        assertArrayEquals(new double[] {-1, 1, -5, 5}, out, 1e-12);
        assertEquals("rewards: expected a length divisible by groupSize 3, got 4",
                assertThrows(IllegalArgumentException.class,
                        () -> Advantages.compute("grpo", new double[4], 3)).getMessage());
        assertEquals("advantage: expected one of [drgrpo, grpo, rloo], got 'ppo'",
                assertThrows(IllegalArgumentException.class, () -> Advantages.get("ppo")).getMessage()
                        .replaceAll(", test-[a-z]+", ""));
        assertEquals("rewards[1] is NaN", assertThrows(IllegalArgumentException.class,
                () -> Advantages.compute("grpo", new double[] {0, Double.NaN}, 2)).getMessage());
    }

    @Test
    void customEstimatorsRegisterByName() {
        if (!Advantages.names().contains("test-sign")) {
            Advantages.register("test-sign", r -> {
                double[] out = new double[r.length];
                for (int i = 0; i < r.length; i++) {
                    out[i] = Math.signum(r[i]);
                }
                return out;
            });
        }
        assertArrayEquals(new double[] {-1, 1}, Advantages.compute("test-sign", new double[] {-3, 2}, 2), 0);
        assertThrows(IllegalArgumentException.class, () -> Advantages.register("grpo", r -> r));
    }

    @Test
    void dadsMatchesTheSpecValuesForGroupsOfEight() {
        assertEquals(0.288, DadsWeights.lambda(1, 8, Math.E), 5e-4);
        assertEquals(0.743, DadsWeights.lambda(4, 8, Math.E), 5e-4);
        assertEquals(0.907, DadsWeights.lambda(7, 8, Math.E), 5e-4);
        assertEquals(1 - Math.exp(-Math.E / 8), DadsWeights.lambda(1, 8, Math.E), 1e-15);
        assertEquals(1.0, DadsWeights.lambda(0, 8, Math.E));   // d = 1
        assertEquals(1.0, DadsWeights.lambda(8, 8, Math.E));   // d = 0
    }

    @Test
    void dadsWeighsOnlyPositiveAdvantages() {
        double[] correct = {1, 0, 0, 0, 1, 1, 1, 1};
        double[] adv = {1.5, -0.5, -0.5, 0, 0.2, 0.2, 0.2, 0.2};
        double[] w = DadsWeights.compute(correct, adv, 4);
        double hard = 1 - Math.exp(-Math.E * 0.25);
        assertArrayEquals(new double[] {hard, 1, 1, 1, 1, 1, 1, 1}, w, 1e-12);
    }

    @Test
    void stcrScalesOnlyLongWrongNegativeResponses() {
        double alpha = StcrWeights.DEFAULT_ALPHA;
        double[] correct = {1, 1, 0, 0, 0};
        double[] lengths = {100, 200, 400, 120, 500};
        double[] adv = {1, 1, -1, -1, 0.3};   // the last one: wrong but positive A (e.g. format reward)
        double[] w = StcrWeights.compute(correct, lengths, adv, 5);
        double expected = 1 + (1 - Math.exp(-alpha * (400 - 150)));
        assertArrayEquals(new double[] {1, 1, expected, 1, 1}, w, 1e-15);
        assertArrayEquals(new double[] {1, 1, -expected, -1, 0.3}, StcrWeights.apply(adv, w), 1e-15);
        // No correct response in the group: nothing to compare with.
        assertArrayEquals(new double[] {1, 1}, StcrWeights.compute(new double[] {0, 0}, new double[] {10, 900},
                new double[] {-1, -1}, 2), 0);
        // w < 2 always.
        double[] huge = StcrWeights.compute(new double[] {1, 0}, new double[] {1, 1e12}, new double[] {1, -1}, 2);
        assertEquals(2.0, huge[1], 1e-9);
        assertEquals(true, huge[1] <= 2.0);
    }

    @Test
    void overlongShapingIsPiecewiseLinear() {
        int max = 100;
        int cache = 20;
        assertEquals(0.0, OverlongShaping.penalty(50, max, cache));
        assertEquals(0.0, OverlongShaping.penalty(80, max, cache));
        assertEquals(-0.25, OverlongShaping.penalty(85, max, cache), 1e-15);
        assertEquals(-1.0, OverlongShaping.penalty(100, max, cache), 1e-15);
        assertEquals(-1.0, OverlongShaping.penalty(150, max, cache));
        assertArrayEquals(new double[] {1.0, 0.75}, OverlongShaping.apply(new double[] {1, 1},
                new double[] {10, 85}, max, cache), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> OverlongShaping.penalty(1, 10, 20));
    }
}
