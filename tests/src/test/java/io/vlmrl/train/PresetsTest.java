package io.vlmrl.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The presets against the table in ALGORITHMS.md ("Presets"), row by row. */
class PresetsTest {

    private static void assertRow(String preset, String advantage, String clip, double epsLow, double epsHigh,
                                  String kl, double beta, String aggregation) {
        TrainConfig c = TrainConfig.ofPreset(preset);
        assertEquals(preset, c.preset());
        assertEquals(advantage, c.advantage(), preset + " advantage");
        assertEquals(clip, c.clipMode(), preset + " clip");
        if (!clip.equals("aaac")) {
            assertEquals(epsLow, c.epsLow(), preset + " eps_low");
            assertEquals(epsHigh, c.epsHigh(), preset + " eps_high");
        }
        assertEquals(kl, c.kl(), preset + " KL");
        assertEquals(beta, c.klBeta(), preset + " beta");
        assertEquals(aggregation, c.aggregation(), preset + " aggregation");
    }

    @Test
    void ppo() {
        assertRow("ppo", "grpo", "ppo", 0.2, 0.2, "none", 0.0, "token-mean");
        TrainConfig c = TrainConfig.ofPreset("ppo");
        assertFalse(c.gate() || c.dynamicSampling() || c.overlongShaping() || c.dads() || c.stcr());
        assertEquals(1, c.reuseKMax());
    }

    @Test
    void grpo() {
        assertRow("grpo", "grpo", "ppo", 0.2, 0.2, "k3", 1e-3, "seq-mean-token-mean");
        TrainConfig c = TrainConfig.ofPreset("grpo");
        assertFalse(c.gate() || c.dynamicSampling() || c.overlongShaping() || c.dads() || c.stcr());
    }

    @Test
    void dapo() {
        assertRow("dapo", "grpo", "clip-higher", 0.2, 0.28, "none", 0.0, "token-mean");
        TrainConfig c = TrainConfig.ofPreset("dapo");
        assertTrue(c.dynamicSampling());
        assertTrue(c.overlongShaping());
        assertFalse(c.gate() || c.dads() || c.stcr());
    }

    @Test
    void acpo() {
        assertRow("acpo", "grpo", "aaac", 0.2, 0, "none", 0.0, "token-mean");
        TrainConfig c = TrainConfig.ofPreset("acpo");
        assertEquals(0.2, c.epsLow());
        assertEquals(0.20, c.aaacEpsMin());
        assertEquals(0.32, c.aaacEpsMax());
        assertTrue(c.gate());
        assertEquals(0.5, c.gateTau());
        assertEquals(c.groupSize() - 1, c.gateNMax());
        assertTrue(c.reuseKMax() > 1, "a reuse schedule");
        assertEquals("linear", c.reuseKind());
        assertFalse(c.dynamicSampling() || c.dads() || c.stcr());
    }

    @Test
    void apo() {
        assertRow("apo", "grpo", "ppo", 0.2, 0.2, "k3", 1e-3, "token-mean");
        TrainConfig c = TrainConfig.ofPreset("apo");
        assertTrue(c.dads());
        assertEquals(Math.E, c.dadsKappa());
        assertTrue(c.stcr());
        assertEquals(Math.log(1.00001), c.stcrAlpha());
        assertEquals("seq-mean-token-mean", c.klAggregation(), "KL: per response, then mean");
        assertFalse(c.gate() || c.dynamicSampling());
    }

    @Test
    void everyPresetFieldCanBeOverridden() {
        TrainConfig c = TrainConfig.resolve("dapo", null, java.util.List.of("loss.eps_high=0.3", "dapo.dynamic_sampling=false"));
        assertEquals(0.3, c.epsHigh());
        assertFalse(c.dynamicSampling());
    }
}
