package io.vlmrl.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TrailingMeanTest {
    @Test
    void matchesTheMeanOfTheLastWindowValuesComputedDirectly() {
        double[] values = new Random(3).doubles(57).toArray();
        for (int window : new int[] {1, 2, 7, 57, 100}) {
            double[] expected = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                int from = Math.max(0, i - window + 1);
                double sum = 0;
                for (int j = from; j <= i; j++) sum += values[j];
                expected[i] = sum / (i - from + 1);
            }
            assertArrayEquals(expected, TrailingMean.of(values, window), 1e-12, "window " + window);
        }
        assertArrayEquals(values, TrailingMean.of(values, 1), 1e-12);
        assertArrayEquals(new double[0], TrailingMean.of(new double[0], 5));
    }

    @Test
    void refusesAWindowBelowOne() {
        var e = assertThrows(IllegalArgumentException.class, () -> TrailingMean.of(new double[] {1}, 0));
        assertTrue(e.getMessage().contains("window") && e.getMessage().contains("0"), e.getMessage());
    }
}
