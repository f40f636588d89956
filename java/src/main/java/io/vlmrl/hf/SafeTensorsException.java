package io.vlmrl.hf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file (or sharded set) that is missing, truncated or malformed, or a tensor that
 * cannot be read or written. The message names the file and, where one is concerned, the tensor.
 */
public final class SafeTensorsException extends IOException {
    private final Path file;
    private final String tensor;

    public SafeTensorsException(Path file, String tensor, String problem, Throwable cause) {
        super("safetensors file " + file + (tensor == null ? "" : ", tensor " + tensor) + ": " + problem, cause);
        this.file = file;
        this.tensor = tensor;
    }

    public SafeTensorsException(Path file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    /** The file concerned. */
    public Path file() {
        return file;
    }

    /** The tensor concerned, or null when the problem is with the whole file. */
    public String tensor() {
        return tensor;
    }
}
