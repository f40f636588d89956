package io.vlmrl.bench.report;

import io.vlmrl.bench.CpuTimeLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The CPU-time lines written by {@link CpuTimeLog}, looked up by method and params. */
public final class CpuTimeRecords {

    private final Map<String, Double> seconds = new HashMap<>();

    public static CpuTimeRecords read(Path file) throws IOException {
        CpuTimeRecords records = new CpuTimeRecords();
        if (file == null || !Files.exists(file)) {
            return records;
        }
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank() || line.equals(CpuTimeLog.HEADER)) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length != 3) {
                throw new IllegalArgumentException(file + ": expected 3 fields (" + CpuTimeLog.HEADER + "), got: " + line);
            }
            String full = f[0];
            String method = full.substring(full.lastIndexOf('.') + 1);
            String className = full.substring(0, full.lastIndexOf('.'));
            String simpleClass = className.substring(className.lastIndexOf('.') + 1);
            records.seconds.put(simpleClass + "." + method + "|" + f[1], Double.parseDouble(f[2]) * 1e-9);
        }
        return records;
    }

    /** CPU seconds per call, or NaN when not recorded. */
    public double seconds(String benchmarkClass, String method, String params) {
        return seconds.getOrDefault(benchmarkClass + "." + method + "|" + params, Double.NaN);
    }
}
