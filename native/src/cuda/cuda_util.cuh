/* Private helpers of the CUDA kernel sources: error checks and small device utilities. */
#ifndef VLMRL_CUDA_UTIL_CUH
#define VLMRL_CUDA_UTIL_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "internal.h"

namespace vlmrl_cuda {

/* Records a VLMRL_ERR_CUDA message naming the failed call; returns VLMRL_OK on success. */
inline int check(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return VLMRL_OK;
    return vlmrl_set_error(VLMRL_ERR_CUDA, "%s failed: %s (%s)", what, cudaGetErrorString(err),
                           cudaGetErrorName(err));
}

/* Checks the launch of the kernel just enqueued (configuration errors surface here). */
inline int check_launch(const char* kernel) { return check(cudaGetLastError(), kernel); }

inline cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

inline bool is_aligned(const void* p, unsigned bytes) {
    return (reinterpret_cast<uintptr_t>(p) % bytes) == 0;
}

/*
 * Device scratch memory from the stream-ordered allocator, freed on the same
 * stream when the holder goes out of scope (also on early error returns).
 */
class StreamScratch {
public:
    explicit StreamScratch(cudaStream_t stream) : stream_(stream) {}
    StreamScratch(const StreamScratch&) = delete;
    StreamScratch& operator=(const StreamScratch&) = delete;
    ~StreamScratch() {
        if (ptr_ != nullptr) cudaFreeAsync(ptr_, stream_);
    }
    int allocate(size_t bytes) {
        return check(cudaMallocAsync(&ptr_, bytes, stream_), "cudaMallocAsync (kernel workspace)");
    }
    template <typename T>
    T* at(size_t byte_offset) const {
        return reinterpret_cast<T*>(static_cast<char*>(ptr_) + byte_offset);
    }

private:
    cudaStream_t stream_;
    void* ptr_ = nullptr;
};

/* Rounds `bytes` up to a multiple of 256 so that every workspace section stays aligned. */
inline size_t align_up(size_t bytes) { return (bytes + 255) & ~static_cast<size_t>(255); }

}  // namespace vlmrl_cuda

#endif /* VLMRL_CUDA_UTIL_CUH */
