package io.vlmrl.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Records the peak extra memory of one benchmark case as a CSV line, for the report.
 * JMH forks a JVM per case, so each line comes from a process that ran only that case.
 * The file is named by -Dvlmrl.bench.memoryFile (run.sh sets it); without it lines go to stdout.
 *
 * <p>Format: {@code benchmark,params,extra_bytes,reference_bytes} where params is
 * {@code key=value} pairs joined by ';' (same keys as JMH's params) and reference_bytes is
 * the size the extra memory is compared with (the logits).
 */
public final class PeakMemoryLog {

    public static final String PROPERTY = "vlmrl.bench.memoryFile";
    public static final String HEADER = "benchmark,params,extra_bytes,reference_bytes";

    private PeakMemoryLog() {
    }

    public static synchronized void record(String benchmark, String params, long extraBytes, long referenceBytes) {
        String line = benchmark + "," + params + "," + extraBytes + "," + referenceBytes;
        String file = System.getProperty(PROPERTY);
        if (file == null || file.isBlank()) {
            System.out.println("[peak-memory] " + line);
            return;
        }
        try {
            Path path = Path.of(file);
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            if (!Files.exists(path)) {
                Files.writeString(path, HEADER + System.lineSeparator(), StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            Files.writeString(path, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("cannot append to " + file + ": " + e.getMessage(), e);
        }
    }
}
