package io.vlmrl.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes DIR/metrics.jsonl: one JSON object per step holding {@code step} and every metric
 * of {@link MetricNames#ALL}, flushed after each step so a killed run keeps its history.
 * Also keeps the records in memory for the curves and for checkpoints.
 */
public final class MetricsLogger implements Closeable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Map<String, Object>> history = new ArrayList<>();
    private final BufferedWriter out;

    /**
     * Starts DIR/metrics.jsonl afresh with {@code previous} (the records of a resumed run,
     * empty for a new one) already in it.
     */
    public MetricsLogger(Path file, List<Map<String, Object>> previous) {
        try {
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            for (Map<String, Object> record : previous) write(record);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Appends the record of {@code step}; {@code metrics} must hold every name of the spec's table. */
    public void log(int step, Map<String, Double> metrics) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("step", step);
        for (String name : MetricNames.ALL) {
            Double v = metrics.get(name);
            if (v == null) throw new IllegalArgumentException("metrics: missing '" + name + "' at step " + step);
            record.put(name, v);
        }
        try {
            write(record);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics.jsonl", e);
        }
    }

    /** Every record so far, oldest first. */
    public List<Map<String, Object>> history() {
        return history;
    }

    /** Serializes records as JSON lines (used for checkpoints). */
    public static String toJsonLines(List<Map<String, Object>> records) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Map<String, Object> r : records) sb.append(JSON.writeValueAsString(r)).append('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sb.toString();
    }

    /** Reads JSON lines written by this class. */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> records = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) records.add(JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {}));
        }
        return records;
    }

    private void write(Map<String, Object> record) throws IOException {
        history.add(record);
        out.write(JSON.writeValueAsString(record));
        out.write('\n');
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
