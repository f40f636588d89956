package io.vlmrl.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends one CSV line to the file a system property names (its header first when the file is
 * new), or prints it with a tag when the property is unset: the side channel through which forked
 * benchmark JVMs report what JMH does not measure (peak memory, CPU time) to run.sh's report.
 */
final class CsvSideLog {
    private CsvSideLog() {
    }

    static synchronized void append(String property, String header, String tag, String line) {
        String file = System.getProperty(property);
        if (file == null || file.isBlank()) {
            System.out.println("[" + tag + "] " + line);
            return;
        }
        try {
            Path path = Path.of(file);
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            if (!Files.exists(path)) {
                Files.writeString(path, header + System.lineSeparator(), StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            Files.writeString(path, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("cannot append to " + file + ": " + e.getMessage(), e);
        }
    }
}
