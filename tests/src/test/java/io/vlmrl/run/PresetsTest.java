package io.vlmrl.run;

import io.vlmrl.loss.Aggregation;
import io.vlmrl.loss.KlEstimator;
import io.vlmrl.loss.LossConfig;
import io.vlmrl.rl.ReuseSchedule;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The presets against the table in docs/algorithms.md ("Presets"), row by row. */
class PresetsTest {

    private static RunConfig assertRow(String preset, String advantage, String mode, double epsLow, double epsHigh,
                                       KlEstimator kl, double beta, Aggregation aggregation) {
        RunConfig c = RunConfig.ofPreset(preset);
        LossConfig l = c.loss();
        assertEquals(preset, c.preset());
        assertEquals(advantage, l.advantage(), preset + " advantage");
        assertEquals(mode, l.mode(), preset + " loss mode");
        if (!mode.equals("aaac")) {
            assertEquals(epsLow, l.epsLow(), preset + " eps_low");
            assertEquals(epsHigh, l.epsHigh(), preset + " eps_high");
        }
        assertEquals(kl, l.kl(), preset + " KL");
        assertEquals(beta, l.klBeta(), preset + " beta");
        assertEquals(aggregation, l.aggregation(), preset + " aggregation");
        return c;
    }

    @Test
    void ppoIsTheDefaultsOfEveryKey() {
        RunConfig c = assertRow("ppo", "grpo", "ppo", 0.2, 0.2, KlEstimator.NONE, 0.0, Aggregation.TOKEN_MEAN);
        assertFalse(c.curriculum().gate() || c.curriculum().dynamicSampling() || c.reward().overlongShaping()
                || c.loss().dads() || c.loss().stcr());
        assertEquals(1, c.reuse().kMax());
        assertEquals(LossConfig.defaults(), c.loss());
        assertTrue(c.changes().isEmpty(), "ppo changes nothing: " + c.changes());
    }

    @Test
    void grpo() {
        RunConfig c = assertRow("grpo", "grpo", "ppo", 0.2, 0.2, KlEstimator.K3, 1e-3, Aggregation.SEQ_MEAN_TOKEN_MEAN);
        assertFalse(c.curriculum().gate() || c.curriculum().dynamicSampling() || c.reward().overlongShaping()
                || c.loss().dads() || c.loss().stcr());
    }

    @Test
    void dapo() {
        RunConfig c = assertRow("dapo", "grpo", "clip-higher", 0.2, 0.28, KlEstimator.NONE, 0.0, Aggregation.TOKEN_MEAN);
        assertTrue(c.curriculum().dynamicSampling());
        assertTrue(c.reward().overlongShaping());
        assertFalse(c.curriculum().gate() || c.loss().dads() || c.loss().stcr());
    }

    @Test
    void acpo() {
        RunConfig c = assertRow("acpo", "grpo", "aaac", 0.2, 0, KlEstimator.NONE, 0.0, Aggregation.TOKEN_MEAN);
        assertEquals(0.2, c.loss().epsLow());
        assertEquals(0.20, c.loss().aaacEpsMin());
        assertEquals(0.32, c.loss().aaacEpsMax());
        assertTrue(c.curriculum().gate());
        assertEquals(0.5, c.curriculum().tau());
        assertEquals(c.rollout().groupSize() - 1, c.curriculum().nMaxFor(c.rollout().groupSize()));
        assertTrue(c.reuse().kMax() > 1, "a reuse schedule");
        assertEquals(ReuseSchedule.Kind.LINEAR, c.reuse().kind());
        assertFalse(c.curriculum().dynamicSampling() || c.loss().dads() || c.loss().stcr());
    }

    @Test
    void apo() {
        RunConfig c = assertRow("apo", "grpo", "ppo", 0.2, 0.2, KlEstimator.K3, 1e-3, Aggregation.TOKEN_MEAN);
        assertTrue(c.loss().dads());
        assertEquals(Math.E, c.loss().dadsKappa());
        assertTrue(c.loss().stcr());
        assertEquals(Math.log(1.00001), c.loss().stcrAlpha());
        assertEquals(Aggregation.SEQ_MEAN_TOKEN_MEAN, c.loss().klAggregation(), "KL: per response, then mean");
        assertFalse(c.curriculum().gate() || c.curriculum().dynamicSampling());
    }

    @Test
    void everyPresetKeyCanBeOverridden() {
        RunConfig c = RunConfig.resolve("dapo", null, java.util.List.of("loss.eps_high=0.3", "curriculum.dynamic_sampling=false"));
        assertEquals(0.3, c.loss().epsHigh());
        assertFalse(c.curriculum().dynamicSampling());
    }

    @Test
    void everyPresetNamesOnlyKnownKeysWithValidValues() {
        for (String preset : Presets.names()) {
            Presets.values(preset).forEach((key, value) -> RunConfig.schema().setting(key).coerce(value));
            assertEquals(preset, RunConfig.ofPreset(preset).preset());
        }
    }

    @Test
    void eachAblationIsItsPresetWithOneMechanismOff() {
        Map<String, String> expected = Map.of(
                "acpo-no-aaac", "loss.mode", "acpo-no-gate", "curriculum.gate", "acpo-no-reuse", "reuse.k_max",
                "apo-no-dads", "loss.dads", "apo-no-stcr", "loss.stcr");
        expected.forEach((ablation, key) -> {
            String base = ablation.substring(0, ablation.indexOf('-'));
            List<String> differences = RunConfig.ofPreset(base).differences(RunConfig.ofPreset(ablation), k -> !k.equals("preset"));
            assertEquals(1, differences.size(), ablation + ": " + differences);
            assertTrue(differences.get(0).startsWith(key + ": "), ablation + ": " + differences);
        });
        assertEquals("ppo", RunConfig.ofPreset("acpo-no-aaac").loss().mode());
        assertEquals(1, RunConfig.ofPreset("acpo-no-reuse").reuse().kMax());
    }

    @Test
    void dapoOverlongShapingScalesWithTheResponseLimitAndSparesOrdinaryAnswers() {
        RunConfig dapo = RunConfig.ofPreset("dapo");
        int limit = dapo.rollout().maxResponseLength();
        assertEquals(limit, dapo.reward().overlongMaxLengthFor(limit));
        assertEquals(1, dapo.reward().overlongCacheFor(limit));
        // The built-in task's longest ordinary answers take 9 of the 10 tokens: no penalty.
        assertEquals(0.0, io.vlmrl.algo.OverlongShaping.penalty(9, limit, dapo.reward().overlongCacheFor(limit)));
        assertEquals(-1.0, io.vlmrl.algo.OverlongShaping.penalty(10, limit, dapo.reward().overlongCacheFor(limit)), 1e-12);
        RunConfig longer = dapo.with("rollout.max_response_length=1000");
        assertEquals(1000, longer.reward().overlongMaxLengthFor(1000));
        assertEquals(100, longer.reward().overlongCacheFor(1000));
    }
}
