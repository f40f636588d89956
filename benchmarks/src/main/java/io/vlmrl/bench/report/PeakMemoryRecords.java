package io.vlmrl.bench.report;

import io.vlmrl.bench.PeakMemoryLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The peak-extra-memory lines written by {@link PeakMemoryLog}, looked up by method and params. */
public final class PeakMemoryRecords {

    /** Extra bytes divided by the reference size (the logits), per "Class.method|params" key. */
    private final Map<String, Double> ratios = new HashMap<>();

    public static PeakMemoryRecords read(Path file) throws IOException {
        PeakMemoryRecords records = new PeakMemoryRecords();
        if (file == null || !Files.exists(file)) {
            return records;
        }
        List<String> lines = Files.readAllLines(file);
        for (String line : lines) {
            if (line.isBlank() || line.equals(PeakMemoryLog.HEADER)) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length != 4) {
                throw new IllegalArgumentException(file + ": expected 4 fields (" + PeakMemoryLog.HEADER + "), got: " + line);
            }
            String full = f[0];
            String method = full.substring(full.lastIndexOf('.') + 1);
            String className = full.substring(0, full.lastIndexOf('.'));
            String simpleClass = className.substring(className.lastIndexOf('.') + 1);
            double ratio = Double.parseDouble(f[2]) / Double.parseDouble(f[3]);
            // Repeated runs into one file: the latest line wins.
            records.ratios.put(key(simpleClass, method, f[1]), ratio);
        }
        return records;
    }

    /** Peak extra memory as a multiple of the reference size, or NaN when not recorded. */
    public double ratio(String benchmarkClass, String method, String params) {
        return ratios.getOrDefault(key(benchmarkClass, method, params), Double.NaN);
    }

    private static String key(String benchmarkClass, String method, String params) {
        return benchmarkClass + "." + method + "|" + params;
    }
}
