package io.vlmrl.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** compare over several seeds, with ablations, on a tiny configuration. */
class ComparisonTest {

    @TempDir
    Path dir;

    static RunConfig tiny() {
        List<String> sets = new ArrayList<>(RunSafetyTest.TINY);
        sets.addAll(List.of("steps=3", "checkpoint.every=0"));
        return RunConfig.resolve("acpo", null, sets);
    }

    @Test
    void intervalsAreStudentT() {
        Intervals.Interval i = Intervals.of(List.of(0.5, 0.6, 0.7));
        assertEquals(0.6, i.mean(), 1e-12);
        // s = 0.1, t(0.975, 2) = 4.303: half-width 4.303 * 0.1 / sqrt(3)
        assertEquals(4.303 * 0.1 / Math.sqrt(3), i.halfWidth(), 1e-12);
        assertTrue(Double.isNaN(Intervals.of(List.of(0.5)).halfWidth()));
        assertEquals(1.96, Intervals.t975(100), 0.0);
    }

    @Test
    void severalSeedsAndAblationsGiveIntervalsAndPairedDifferences() throws Exception {
        Path out = dir.resolve("cmp");
        Comparison c = new Comparison(tiny(), List.of("acpo", "acpo-no-aaac", "apo-no-stcr"), List.of(3L, 4L), "acpo",
                out, 0.5, 2).showProgress(false);
        List<Comparison.Row> rows = c.run();
        assertEquals(3, rows.size());
        for (Comparison.Row r : rows) {
            assertEquals(2, r.accuracyAfter().n(), r.preset());
            assertTrue(Double.isFinite(r.accuracyAfter().halfWidth()), r.preset());
        }
        assertEquals(0.0, rows.get(0).differenceToBaseline().mean(), 0.0, "the baseline's difference to itself");
        // Every preset of a seed starts from that seed's one warm start.
        for (long seed : List.of(3L, 4L)) {
            double before = -1;
            for (String p : List.of("acpo", "acpo-no-aaac", "apo-no-stcr")) {
                Path run = out.resolve("seed-" + seed).resolve(p);
                assertTrue(Files.isRegularFile(run.resolve("eval.json")), run.toString());
                double b = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.resolve("eval.json").toFile())
                        .get("accuracy_before").asDouble();
                if (before >= 0) assertEquals(before, b, 0.0, "same warm start for seed " + seed);
                before = b;
            }
        }
        String md = Files.readString(out.resolve("compare.md"));
        assertTrue(md.contains("difference to acpo") && md.contains(" ± "), md);
        assertEquals(1 + 6, Files.readAllLines(out.resolve("compare.csv")).size());
        assertTrue(Files.size(out.resolve("compare.png")) > 1000);
        // Running it again continues (nothing to do) rather than refusing or retraining.
        assertEquals(rows.get(1).accuracyAfter(), c.run().get(1).accuracyAfter());
    }

    @Test
    void badArgumentsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> new Comparison(tiny(), List.of("acpo"), List.of(), "acpo", dir, 0.5, 2));
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Comparison(tiny(), List.of("acpo"), List.of(1L, 1L), "acpo", dir, 0.5, 2));
        assertTrue(e.getMessage().contains("--seeds"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Comparison(tiny(), List.of("acpo"), List.of(1L), "grpo", dir, 0.5, 2));
        assertTrue(e.getMessage().contains("--baseline"), e.getMessage());
    }
}
