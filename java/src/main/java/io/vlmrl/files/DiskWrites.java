package io.vlmrl.files;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every byte vlmrl writes for a checkpoint or a model goes through {@link #reserve}, which fails
 * like a full disk once a test-set budget is spent. This is the write hook the fault-injection
 * tests use where the machine cannot mount a small tmpfs; in normal runs the budget is unlimited
 * and the check is one atomic read.
 */
public final class DiskWrites {

    private static final long UNLIMITED = Long.MAX_VALUE;
    private static final AtomicLong BUDGET = new AtomicLong(UNLIMITED);

    private DiskWrites() {
    }

    /**
     * Accounts for {@code bytes} about to be written.
     *
     * @throws IOException "No space left on device" once the injected budget is spent
     */
    public static void reserve(long bytes) throws IOException {
        if (BUDGET.get() == UNLIMITED) return;
        if (BUDGET.addAndGet(-bytes) < 0) {
            BUDGET.set(0);
            throw new IOException("No space left on device");
        }
    }

    /** Tests: every write fails once {@code bytes} more bytes have been written. */
    public static void failAfter(long bytes) {
        BUDGET.set(bytes);
    }

    /** Tests: writes never fail by injection again. */
    public static void unlimited() {
        BUDGET.set(UNLIMITED);
    }
}
