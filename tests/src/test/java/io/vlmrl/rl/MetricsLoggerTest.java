package io.vlmrl.rl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsLoggerTest {

    @TempDir
    Path dir;

    private static Map<String, Double> metrics(double base) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < MetricNames.ALL.size(); i++) m.put(MetricNames.ALL.get(i), base + i);
        return m;
    }

    @Test
    void writesOneFlushedLinePerStepWithEveryMetric() throws Exception {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLogger logger = new MetricsLogger(file, 0)) {
            logger.log(0, metrics(0));
            // Flushed: readable before close.
            List<Map<String, Object>> read = MetricsLogger.read(file);
            assertEquals(1, read.size());
            logger.log(1, metrics(10));
        }
        List<Map<String, Object>> read = MetricsLogger.read(file);
        assertEquals(2, read.size());
        assertEquals(1, ((Number) read.get(1).get("step")).intValue());
        for (String name : MetricNames.ALL) assertTrue(read.get(1).containsKey(name), name);
        assertEquals(10.0 + MetricNames.ALL.indexOf("accuracy"), ((Number) read.get(1).get("accuracy")).doubleValue());
    }

    @Test
    void refusesARecordWithAMissingMetric() throws Exception {
        Map<String, Double> m = metrics(0);
        m.remove("gate/pass_rate");
        try (MetricsLogger logger = new MetricsLogger(dir.resolve("m.jsonl"), 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> logger.log(3, m));
            assertTrue(e.getMessage().contains("gate/pass_rate"));
        }
    }

    @Test
    void resumedLoggerKeepsTheCheckpointsRecordsAndDropsLaterOnes() throws Exception {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLogger logger = new MetricsLogger(file, 0)) {
            logger.log(0, metrics(0));
            logger.log(1, metrics(1));
            logger.log(2, metrics(2)); // written after the checkpoint: dropped on resume
            assertEquals(3, logger.records());
        }
        try (MetricsLogger logger = new MetricsLogger(file, 2)) {
            assertEquals(2, logger.records());
            logger.log(2, metrics(5));
        }
        List<Map<String, Object>> read = MetricsLogger.read(file);
        assertEquals(3, read.size());
        assertEquals(1.0, ((Number) read.get(1).get("pg_loss")).doubleValue());
        assertEquals(5.0, ((Number) read.get(2).get("pg_loss")).doubleValue());
    }

    @Test
    void refusesToResumeFromMoreRecordsThanTheFileHas() throws Exception {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLogger logger = new MetricsLogger(file, 0)) {
            logger.log(0, metrics(0));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MetricsLogger(file, 2));
        assertTrue(e.getMessage().contains("metrics.jsonl") && e.getMessage().contains("2"), e.getMessage());
    }

    @Test
    void plotsAPng() throws Exception {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLogger logger = new MetricsLogger(file, 0)) {
            for (int s = 0; s < 5; s++) logger.log(s, metrics(s));
            Path png = dir.resolve("curves.png");
            io.vlmrl.run.CurvePlotter.plotRun(MetricsLogger.read(file), png);
            BufferedImage image = ImageIO.read(png.toFile());
            assertNotNull(image);
            assertTrue(image.getWidth() > 400 && image.getHeight() > 300);
            assertTrue(Files.size(png) > 1000);
        }
    }
}
