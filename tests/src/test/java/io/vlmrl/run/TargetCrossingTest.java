package io.vlmrl.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TargetCrossingTest {

    @Test
    void reportsTheFirstStepWhoseTrailingMeanReachesTheTarget() {
        List<Double> acc = List.of(0.4, 0.5, 0.6, 0.7, 0.8);
        // Means of 3: 0.5 (steps 1-3), 0.6 (2-4), 0.7 (3-5).
        assertEquals(OptionalInt.of(4), TargetCrossing.stepsToReach(acc, 0.6, 3));
        assertEquals(OptionalInt.of(3), TargetCrossing.stepsToReach(acc, 0.5, 3));
        assertEquals(OptionalInt.of(3), TargetCrossing.stepsToReach(acc, 0.6, 1));
    }

    @Test
    void oneLuckyStepDoesNotCount() {
        List<Double> acc = List.of(0.9, 0.4, 0.4, 0.4, 0.4);
        assertTrue(TargetCrossing.stepsToReach(acc, 0.6, 3).isEmpty()); // best mean of 3: 0.567
        assertEquals(OptionalInt.of(1), TargetCrossing.stepsToReach(acc, 0.6, 1));
    }

    @Test
    void aRunShorterThanTheWindowNeverReachesIt() {
        assertTrue(TargetCrossing.stepsToReach(List.of(1.0, 1.0), 0.5, 3).isEmpty());
        assertTrue(TargetCrossing.stepsToReach(List.of(), 0.5, 1).isEmpty());
    }

    @Test
    void refusesBadArguments() {
        var e = assertThrows(IllegalArgumentException.class, () -> TargetCrossing.stepsToReach(List.of(0.5), 0.5, 0));
        assertTrue(e.getMessage().contains("window") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TargetCrossing.stepsToReach(List.of(0.5), Double.NaN, 2));
        assertTrue(e.getMessage().contains("target") && e.getMessage().contains("NaN"), e.getMessage());
    }
}
