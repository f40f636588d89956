package io.vlmrl.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The exclusive lock a process holds on a run directory for the life of a run, so that two
 * processes never write one run (they would interleave metrics.jsonl and checkpoints). DIR/.lock
 * is locked with the operating system's file lock, which the system releases when the process dies
 * (even by kill -9), and holds the owner's PID, host and start time while it is held. A second
 * process is refused, naming the owner; a lock file left with an owner by a process that died is
 * taken over with a warning.
 */
public final class RunLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
    public static final String FILE = ".lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code dir} (created if needed).
     *
     * @throws IllegalArgumentException naming the owner when another process (or another run of this
     *                                  process) holds it
     */
    public static RunLock acquire(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String owner = read(channel);
            channel.close();
            throw new IllegalArgumentException("--out: " + dir + " is in use by another run ("
                    + (owner.isBlank() ? "owner unknown" : owner) + "); wait for it to finish, or choose another --out");
        }
        String previous = read(channel);
        if (!previous.isBlank()) {
            LOG.warn("{}: taking over the lock of a run that ended without releasing it ({})", dir, previous);
        }
        String owner = "process " + ProcessHandle.current().pid() + " on " + host() + " since " + Instant.now();
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(owner.getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(true);
        return new RunLock(file, channel, lock);
    }

    /** Releases the lock; the file is emptied first, so that no later run mistakes it for a stale owner. */
    @Override
    public void close() throws IOException {
        try {
            channel.truncate(0);
            lock.release();
        } finally {
            channel.close();
        }
    }

    private static String read(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(4096, Math.max(0, channel.size())));
        channel.read(buffer, 0);
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).trim();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "an unknown host";
        }
    }

    @Override
    public String toString() {
        return "RunLock(" + file + ")";
    }
}
