package io.vlmrl.run;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * A job failed for a reason other than a bad argument (a diverged run, a full disk, a failing
 * reward): carries a one-line cause for the terminal, while the stack trace goes to the run's log
 * file ({@link #log()}).
 */
public final class JobFailedException extends RuntimeException {
    private final Path log;

    private JobFailedException(String message, Path log, Throwable cause) {
        super(message, cause);
        this.log = log;
    }

    /** Where the stack trace was written (null when it could not be). */
    public Path log() {
        return log;
    }

    /**
     * Appends {@code failure}'s stack trace to {@code log} and returns the exception to throw: its
     * message is the failure's first line and where the details are.
     */
    public static JobFailedException recorded(Path log, Throwable failure) {
        String cause = failure.getMessage() == null ? failure.getClass().getName() : failure.getMessage();
        int nl = cause.indexOf('\n');
        if (nl >= 0) cause = cause.substring(0, nl);
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace));
        Path written = log;
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Files.writeString(log, Instant.now() + " failed: " + trace + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            written = null; // a full disk may refuse the log too: the cause is still shown
        }
        return new JobFailedException(cause + (written == null ? "" : " (details in " + written + ")"), written, failure);
    }
}
