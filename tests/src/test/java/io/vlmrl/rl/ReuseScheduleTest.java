package io.vlmrl.rl;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReuseScheduleTest {

    /** The spec's formula in double precision, written independently of the class. */
    private static int linearReference(int kMax, int tRamp, int t) {
        return 1 + (int) Math.floor((kMax - 1) * Math.min(1.0, (double) t / tRamp));
    }

    @Test
    void linearFollowsTheSpecFormula() {
        for (int kMax : new int[] {1, 2, 3, 4, 7}) {
            for (int tRamp : new int[] {1, 3, 10, 17}) {
                ReuseSchedule s = schedule("linear", kMax, tRamp);
                for (int t = 0; t < 40; t++) {
                    assertEquals(linearReference(kMax, tRamp, t), s.passes(t), "kMax=" + kMax + " tRamp=" + tRamp + " t=" + t);
                }
            }
        }
    }

    @Test
    void linearStartsOnPolicyAndReachesKMaxAtTheEndOfTheRamp() {
        ReuseSchedule s = schedule("linear", 4, 9);
        assertEquals(1, s.passes(0));
        assertEquals(1, s.passes(2));   // 3*2/9 = 0.67
        assertEquals(2, s.passes(3));   // 3*3/9 = 1
        assertEquals(3, s.passes(8));   // 3*8/9 = 2.67
        assertEquals(4, s.passes(9));
        assertEquals(4, s.passes(1000));
    }

    @Test
    void stepJumpsAtTRamp() {
        ReuseSchedule s = schedule("step", 3, 5);
        assertEquals(1, s.passes(0));
        assertEquals(1, s.passes(4));
        assertEquals(3, s.passes(5));
        assertEquals(3, s.passes(50));
    }

    @Test
    void cosineIsMonotoneAndSlowAtTheStart() {
        ReuseSchedule s = schedule("cosine", 5, 20);
        int previous = 1;
        for (int t = 0; t <= 30; t++) {
            int k = s.passes(t);
            assertEquals(true, k >= previous, "non-decreasing at t=" + t);
            previous = k;
        }
        assertEquals(1, s.passes(0));
        assertEquals(3, s.passes(10), "halfway: 1 + (K_max - 1) / 2");
        assertEquals(5, s.passes(20));
        // Half-cosine lags the line early on: at t = 5 linear gives 2, cosine 1.
        assertEquals(2, schedule("linear", 5, 20).passes(5));
        assertEquals(1, s.passes(5));
    }

    @Test
    void zeroRampMeansKMaxFromTheStart() {
        for (String kind : new String[] {"linear", "step", "cosine"}) {
            assertEquals(3, schedule(kind, 3, 0).passes(0), kind);
        }
    }

    @Test
    void kMaxOneIsAlwaysOnPolicy() {
        ReuseSchedule s = schedule("linear", 1, 10);
        for (int t = 0; t < 30; t++) assertEquals(1, s.passes(t));
    }

    @Test
    void refusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> schedule("exp", 2, 3));
        assertThrows(IllegalArgumentException.class, () -> schedule("linear", 0, 3));
        assertThrows(IllegalArgumentException.class, () -> schedule("linear", 2, -1));
        assertThrows(IllegalArgumentException.class, () -> schedule("linear", 2, 3).passes(-1));
    }

    /** The schedule of reuse.kind / k_max / t_ramp, parsed and checked as from the command line. */
    private static ReuseSchedule schedule(String kind, int kMax, int tRamp) {
        return new ReuseSchedule(io.vlmrl.config.Schema.with(ReuseConfig.defaults(),
                "kind=" + kind, "k_max=" + kMax, "t_ramp=" + tRamp));
    }
}
