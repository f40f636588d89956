package io.vlmrl.kernels;

import org.bytedeco.pytorch.global.torch;

/**
 * The CPU threads of this process's tensor work: LibTorch's intra-op (OpenMP) pool, which our
 * kernels share, and the OpenBLAS pool LibTorch's matrix products run on. {@code torch.set_num_threads}
 * alone leaves OpenBLAS at one busy-waiting thread per core, which oversubscribes the cores as
 * soon as several processes (data-parallel ranks) share a machine.
 */
public final class ComputeThreads {
    private ComputeThreads() {
    }

    /** Runs this process's tensor work on {@code threads} threads (the {@code threads} setting). */
    public static void use(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads: expected at least 1, got " + threads);
        torch.set_num_threads(threads);
        if (NativeKernels.vlmrl_set_blas_threads(threads) < 0) {
            throw new IllegalStateException("vlmrl_set_blas_threads: " + NativeKernels.vlmrl_last_error().getString());
        }
    }

    /** OpenBLAS's thread count in this process (0 when LibTorch runs on another BLAS). */
    public static int blasThreads() {
        return NativeKernels.vlmrl_blas_threads();
    }
}
