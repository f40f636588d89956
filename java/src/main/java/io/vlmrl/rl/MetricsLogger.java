package io.vlmrl.rl;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes DIR/metrics.jsonl: one JSON object per step holding {@code step} and every metric of
 * {@link MetricNames#ALL}, flushed after each step so a killed run keeps its history. The file is
 * the run's only copy of the history: a checkpoint records how many of its records it covers,
 * and a resumed run keeps exactly those.
 */
public final class MetricsLogger implements Closeable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;
    private int records;

    /**
     * Opens {@code file}, keeping its first {@code keepRecords} records (those of the checkpoint a run
     * resumes from; 0 for a new run) and dropping any later ones (steps after that checkpoint).
     *
     * @throws IllegalArgumentException when the file holds fewer records than {@code keepRecords}
     */
    public MetricsLogger(Path file, int keepRecords) {
        this.file = file;
        try {
            List<String> kept = new ArrayList<>();
            if (keepRecords > 0) {
                List<String> lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
                for (String line : lines) {
                    if (kept.size() == keepRecords) break;
                    if (!line.isBlank()) kept.add(line);
                }
                if (kept.size() < keepRecords) {
                    throw new IllegalArgumentException(file + ": expected at least " + keepRecords
                            + " records (the checkpoint's steps), found " + kept.size());
                }
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, kept, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            records = kept.size();
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends the record of {@code step}; {@code metrics} must hold every name of {@link MetricNames#ALL}. */
    public void log(int step, Map<String, Double> metrics) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("step", step);
        for (String name : MetricNames.ALL) {
            Double v = metrics.get(name);
            if (v == null) throw new IllegalArgumentException("metrics: missing '" + name + "' at step " + step);
            record.put(name, v);
        }
        try {
            out.write(JSON.writeValueAsString(record));
            out.write('\n');
            out.flush();
            records++;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Records in the file so far. */
    public int records() {
        return records;
    }

    /** Reads JSON lines written by this class. */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> records = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) records.add(JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {}));
        }
        return records;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
