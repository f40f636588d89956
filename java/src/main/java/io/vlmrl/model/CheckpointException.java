package io.vlmrl.model;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint file that is missing, truncated, corrupt or does not match the model; names the file. */
public final class CheckpointException extends IOException {
    private final Path file;

    public CheckpointException(Path file, String problem, Throwable cause) {
        super("checkpoint file " + file + ": " + problem, cause);
        this.file = file;
    }

    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    /** The file that could not be used. */
    public Path file() {
        return file;
    }
}
