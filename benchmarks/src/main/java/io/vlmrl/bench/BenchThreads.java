package io.vlmrl.bench;

import io.vlmrl.kernels.ComputeThreads;
import org.bytedeco.pytorch.global.torch;

/**
 * One thread count for both sides of every comparison: LibTorch's intra-op pool and the
 * native kernels' OpenMP pool. run.sh exports OMP_NUM_THREADS (read by the native library's
 * OpenMP runtime when it starts) and passes the same number as -Dvlmrl.bench.threads, which
 * this class hands to LibTorch.
 */
public final class BenchThreads {

    /** System property holding the thread count (default: the cores the JVM sees). */
    public static final String PROPERTY = "vlmrl.bench.threads";

    private BenchThreads() {
    }

    /** The configured thread count. */
    public static int count() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        int threads = Integer.parseInt(value.trim());
        if (threads < 1) {
            throw new IllegalArgumentException(PROPERTY + " must be >= 1, got " + threads);
        }
        return threads;
    }

    /**
     * Sets LibTorch's thread count and checks that the native OpenMP pool was given the same
     * one; a mismatch would make the fused-vs-eager ratio measure thread counts, not kernels.
     */
    public static int configure() {
        int threads = count();
        ComputeThreads.use(threads);
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp == null || !omp.trim().equals(Integer.toString(threads))) {
            throw new IllegalStateException("OMP_NUM_THREADS must equal " + PROPERTY + " = " + threads
                    + " so native and LibTorch kernels use the same cores, got OMP_NUM_THREADS=" + omp
                    + " (run the benchmarks through benchmarks/run.sh)");
        }
        return threads;
    }
}
