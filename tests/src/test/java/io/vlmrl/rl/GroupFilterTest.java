package io.vlmrl.rl;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupFilterTest {

    @Test
    void gateKeepsGroupsWithSomeButNotTooManySuccesses() {
        CurriculumGate gate = new CurriculumGate(0.5, 3); // G = 4, N_max = G - 1
        assertFalse(gate.keep(new double[] {0, 0, 0, 0}), "all wrong");
        assertTrue(gate.keep(new double[] {1, 0, 0, 0}), "one right");
        assertTrue(gate.keep(new double[] {1, 1, 1, 0}), "N_max right");
        assertFalse(gate.keep(new double[] {1, 1, 1, 1}), "all right");
    }

    @Test
    void gateThresholdIsStrict() {
        CurriculumGate gate = new CurriculumGate(0.5, 3);
        assertFalse(gate.keep(new double[] {0.5, 0.5, 0, 0}), "r = tau is not a success");
        assertTrue(gate.keep(new double[] {0.5000001, 0.5, 0, 0}));
        // Format-only rewards (0.1) below tau do not count.
        assertFalse(gate.keep(new double[] {0.1, 0.1, 0.1, 0.1}));
    }

    @Test
    void gateWithSmallerNMax() {
        CurriculumGate gate = new CurriculumGate(0.5, 1);
        assertTrue(gate.keep(new double[] {1, 0, 0, 0}));
        assertFalse(gate.keep(new double[] {1, 1, 0, 0}));
    }

    @Test
    void gateRefusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new CurriculumGate(0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> new CurriculumGate(Double.NaN, 1));
    }

    @Test
    void dynamicSamplingDropsGroupsWithEqualRewards() {
        DynamicSamplingFilter f = new DynamicSamplingFilter();
        assertFalse(f.keep(new double[] {0, 0, 0}));
        assertFalse(f.keep(new double[] {1.1, 1.1, 1.1}));
        assertFalse(f.keep(new double[] {-0.5}), "a single response has no spread");
        assertTrue(f.keep(new double[] {1.1, 1.1, 0.1}));
        // Overlong shaping can split an otherwise uniform group: that group has signal.
        assertTrue(f.keep(new double[] {1.0, 1.0, 0.75}));
    }

    @Test
    void filterOfConfigFollowsThePreset() {
        assertTrue(GroupFilter.of(io.vlmrl.run.RunConfig.ofPreset("acpo").curriculum(), 8) instanceof CurriculumGate);
        assertTrue(GroupFilter.of(io.vlmrl.run.RunConfig.ofPreset("dapo").curriculum(), 8) instanceof DynamicSamplingFilter);
        assertEquals(GroupFilter.KEEP_ALL, GroupFilter.of(io.vlmrl.run.RunConfig.ofPreset("grpo").curriculum(), 8));
    }

    /** Batches of groups (each group = its rewards), scripted. */
    private static List<double[]> batch(double[]... groups) {
        return List.of(groups);
    }

    @Test
    void collectorDrawsMoreBatchesUntilTargetIsMet() {
        List<List<double[]>> script = List.of(
                batch(new double[] {0, 0}, new double[] {1, 0}, new double[] {1, 1}),
                batch(new double[] {0, 1}, new double[] {0, 0}, new double[] {1, 0}),
                batch(new double[] {1, 0}, new double[] {1, 0}, new double[] {1, 0}));
        List<Integer> drawn = new ArrayList<>();
        GroupCollector<double[]> c = new GroupCollector<>(new CurriculumGate(0.5, 1), r -> r, 3, 10);
        GroupCollector.Result<double[]> res = c.collect(b -> { drawn.add(b); return script.get(b); });
        assertEquals(List.of(0, 1), drawn, "stops once 3 groups passed");
        assertEquals(3, res.kept.size());
        assertEquals(6, res.sampled.size());
        assertEquals(3.0 / 6.0, res.passRate, 1e-12);
        assertEquals(2, res.batchesDrawn);
    }

    @Test
    void collectorStopsAtTheLimitAndTrainsOnWhatThereIs() {
        GroupCollector<double[]> c = new GroupCollector<>(new DynamicSamplingFilter(), r -> r, 4, 2);
        GroupCollector.Result<double[]> res = c.collect(b -> batch(new double[] {0, 0}, new double[] {0, 1}));
        assertEquals(2, res.batchesDrawn);
        assertEquals(2, res.kept.size());
        assertEquals(0.5, res.passRate, 1e-12);
    }

    @Test
    void collectorNeverKeepsMoreThanTheTarget() {
        GroupCollector<double[]> c = new GroupCollector<>(GroupFilter.KEEP_ALL, r -> r, 2, 5);
        GroupCollector.Result<double[]> res = c.collect(b -> batch(new double[] {0}, new double[] {1}, new double[] {0}));
        assertEquals(2, res.kept.size());
        assertEquals(1, res.batchesDrawn);
        assertEquals(1.0, res.passRate, 1e-12);
    }
}
