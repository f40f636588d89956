package io.vlmrl.docs;

import io.vlmrl.rl.MetricNames;
import io.vlmrl.run.ConfigTable;
import io.vlmrl.run.Presets;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/algorithms.md describes the code as it is: every key, preset and metric. */
class AlgorithmsDocTest {

    private static String doc() throws Exception {
        Path file = Path.of("..", "docs", "algorithms.md");
        assertTrue(Files.isRegularFile(file), "docs/algorithms.md missing (looked at " + file.toAbsolutePath() + ")");
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    @Test
    void theKeyTableIsTheCodes() throws Exception {
        String doc = doc();
        String begin = "<!-- keys:begin -->\n", end = "<!-- keys:end -->";
        String table = doc.substring(doc.indexOf(begin) + begin.length(), doc.indexOf(end));
        assertEquals(ConfigTable.markdown(), table,
                "docs/algorithms.md's key table is out of date: regenerate it with 'vlmrl config --markdown'");
    }

    @Test
    void everyPresetAndMetricIsDescribed() throws Exception {
        String doc = doc();
        for (String preset : Presets.names()) {
            assertTrue(doc.contains("| `" + preset + "` |"), "preset " + preset + " has no row");
        }
        for (String metric : MetricNames.ALL) {
            assertTrue(doc.contains("`" + metric + "`"), "metric " + metric + " is not described");
        }
    }
}
