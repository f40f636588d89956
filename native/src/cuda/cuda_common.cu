/* Build and device queries of the CUDA part of vlmrl. */
#include <cuda_runtime.h>

#include "vlmrl/common.h"

extern "C" int vlmrl_cuda_compiled(void) { return 1; }

extern "C" int vlmrl_cuda_device_count(void) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        /* No driver or no device: clear the sticky-free error state and report none. */
        cudaGetLastError();
        return 0;
    }
    return count;
}
