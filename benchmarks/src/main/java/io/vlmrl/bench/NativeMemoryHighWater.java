package io.vlmrl.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The process's resident-memory high-water mark from Linux /proc: VmHWM is the peak of
 * VmRSS, and writing "5" to /proc/self/clear_refs resets it to the current VmRSS (Linux
 * 4.0+). Resetting before a measured region and reading after it gives the region's peak
 * resident memory above its starting point, native allocations (LibTorch, kernels)
 * included, which JVM-side counters cannot see.
 */
public final class NativeMemoryHighWater {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private NativeMemoryHighWater() {
    }

    /** Resets the high-water mark to the current resident size and returns that size in bytes. */
    public static long resetAndReadResident() {
        try {
            Files.writeString(CLEAR_REFS, "5", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot reset the resident high-water mark via " + CLEAR_REFS
                    + " (needs Linux 4.0+): " + e.getMessage(), e);
        }
        return statusBytes("VmRSS:");
    }

    /** The peak resident size in bytes since the last reset (or process start). */
    public static long highWaterBytes() {
        return statusBytes("VmHWM:");
    }

    private static long statusBytes(String field) {
        List<String> lines;
        try {
            lines = Files.readAllLines(STATUS, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + STATUS + ": " + e.getMessage(), e);
        }
        for (String line : lines) {
            if (line.startsWith(field)) {
                // "VmHWM:	  123456 kB"
                String[] parts = line.substring(field.length()).trim().split("\\s+");
                return Long.parseLong(parts[0]) * 1024L;
            }
        }
        throw new IllegalStateException(STATUS + " has no " + field + " line");
    }
}
