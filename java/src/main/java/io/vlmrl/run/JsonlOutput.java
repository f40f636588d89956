package io.vlmrl.run;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * A JSONL output file written atomically: lines go to {@code FILE.tmp}, which replaces {@code FILE}
 * only when {@link #commit()} is called, so a failed run never leaves a partial file under the
 * name. Closing without committing deletes the temporary file.
 */
final class JsonlOutput implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final Path tmp;
    private final BufferedWriter writer;
    private boolean committed;

    private JsonlOutput(Path file) throws IOException {
        this.file = file;
        this.tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        this.writer = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
    }

    /**
     * Opens {@code file} for writing.
     *
     * @throws IllegalArgumentException naming {@code --out} when it is a directory
     */
    static JsonlOutput open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("--out: expected a JSONL file, got the directory '" + file + "'");
        }
        return new JsonlOutput(file);
    }

    /** Writes one object as one line. */
    void write(Map<String, Object> object) throws IOException {
        writer.write(JSON.writeValueAsString(object));
        writer.write('\n');
    }

    /** Moves the written lines into place. */
    void commit() throws IOException {
        writer.close();
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
    }

    @Override
    public void close() throws IOException {
        writer.close();
        if (!committed) {
            Files.deleteIfExists(tmp);
        }
    }
}
