package io.vlmrl.files;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is missing, truncated or corrupt: names the file and what is wrong with it. */
public class DamagedFileException extends IOException {
    private final Path file;
    private final String problem;

    public DamagedFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    public DamagedFileException(Path file, String problem) {
        this(file, problem, null);
    }

    /** The damaged file. */
    public Path file() {
        return file;
    }

    /** What is wrong with it. */
    public String problem() {
        return problem;
    }
}
