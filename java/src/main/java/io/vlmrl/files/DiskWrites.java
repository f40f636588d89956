package io.vlmrl.files;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Every byte vlmrl writes for a model, a checkpoint or a run's records goes through
 * {@link #reserve}, which can be made to fail like a full disk. This is the write hook the
 * fault-injection tests use where the machine cannot mount a small tmpfs; in normal runs nothing
 * is armed and the check is one volatile read.
 */
public final class DiskWrites {

    private record Fault(Predicate<Path> files, AtomicLong budget) {}

    private static volatile Fault fault;

    private DiskWrites() {
    }

    /**
     * Accounts for {@code bytes} about to be written to {@code file}.
     *
     * @throws IOException "No space left on device" once an armed fault's budget is spent
     */
    public static void reserve(Path file, long bytes) throws IOException {
        Fault f = fault;
        if (f == null || !f.files.test(file)) return;
        if (f.budget.addAndGet(-bytes) < 0) {
            f.budget.set(0);
            throw new IOException("No space left on device");
        }
    }

    /** Tests: writes to the files {@code files} accepts fail once {@code bytes} more bytes went to them. */
    public static void fullAfter(Predicate<Path> files, long bytes) {
        fault = new Fault(files, new AtomicLong(bytes));
    }

    /** Tests: writes never fail by injection again. */
    public static void unlimited() {
        fault = null;
    }
}
