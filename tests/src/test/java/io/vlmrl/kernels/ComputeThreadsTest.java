package io.vlmrl.kernels;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ComputeThreadsTest {

    @Test
    void setsLibTorchsPoolAndTheOpenBlasItsProductsRunOn() {
        int before = torch.get_num_threads();
        try {
            torch.randn(8, 8).matmul(torch.randn(8, 8)); // LibTorch (and its BLAS) loaded
            // This LibTorch build runs its products on OpenBLAS; if that changes, the helper has nothing to set.
            assertTrue(ComputeThreads.blasThreads() >= 1, "an OpenBLAS is loaded in this process");
            for (int threads : new int[] {1, 2}) {
                ComputeThreads.use(threads);
                assertEquals(threads, torch.get_num_threads(), "LibTorch's pool");
                assertEquals(threads, ComputeThreads.blasThreads(), "OpenBLAS's pool");
            }
        } finally {
            ComputeThreads.use(before);
        }
    }

    @Test
    void refusesLessThanOneThread() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeThreads.use(0));
        assertTrue(e.getMessage().contains("threads: expected at least 1, got 0"), e.getMessage());
    }
}
