/*
 * Fused token log-probabilities and entropy from logits, CUDA.
 *
 * Forward: a group of threads (one warp for a small vocabulary, one block for a
 * large one) owns a row and streams it once with 16-byte loads. Each thread keeps
 * an online softmax state in base 2 (y = logits * log2(e) / T):
 *   m = max y,  s = sum 2^(y - m),  u = sum 2^(y - m) (y - m)
 * and the states are merged across the group. Then
 *   lse = (m + log2 s) ln 2,   H = -sum p log p = (log2 s - u / s) ln 2.
 * Backward is elementwise per row: it recomputes p from the saved lse and writes
 * the gradient in place-safe fashion (each thread reads, then writes, its own elements).
 *
 * Semantics match the CPU kernels (token_logprobs_cpu.cpp): NaN / +Inf anywhere in a
 * row, or a row of only -Inf, makes the row non-finite (logp = entropy = 0, lse = NaN);
 * -Inf logits are probability 0; the entropy is clamped at 0.
 */
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cinttypes>
#include <cmath>
#include <cstdint>

#include "cuda_util.cuh"
#include "validate.h"
#include "vlmrl/token_logprobs.h"

namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
constexpr unsigned kFullMask = 0xffffffffu;

/* Vocabulary up to which a single warp owns a row (at most 64 elements per lane). */
constexpr int64_t kWarpRowMaxVocab = 2048;
/* Threads of the block that owns a row for larger vocabularies. */
constexpr int kThreadsMidVocab = 256;
constexpr int kThreadsLargeVocab = 512;
constexpr int64_t kLargeVocab = 65536;
/* Threads per block when a warp owns a row (so 8 rows per block). */
constexpr int kThreadsWarpRows = 256;
/* 16-byte vectors loaded per thread per step of the forward stream (memory-level parallelism). */
constexpr int kVectorsPerStep = 4;

/* ---- element access: fp32 and bf16 logits, one element or one 16-byte vector ---- */

template <typename T>
struct Elem;

template <>
struct Elem<float> {
    static constexpr int kPerVector = 4;
    __device__ static float load(const float* p) { return *p; }
    __device__ static void load_vector(const float* p, float* out) {
        const float4 v = *reinterpret_cast<const float4*>(p);
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    }
    __device__ static void store(float* p, float v) { *p = v; }
    __device__ static void store_vector(float* p, const float* v) {
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    }
    __device__ static void store_zero(float* p) { *p = 0.0f; }
};

template <>
struct Elem<__nv_bfloat16> {
    static constexpr int kPerVector = 8;
    __device__ static float load(const __nv_bfloat16* p) { return __bfloat162float(*p); }
    /* bf16 is the upper half of an fp32: widening is a shift. */
    __device__ static void load_vector(const __nv_bfloat16* p, float* out) {
        const uint4 v = *reinterpret_cast<const uint4*>(p);
        const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            out[2 * i] = __uint_as_float(words[i] << 16);
            out[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
        }
    }
    __device__ static void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
    __device__ static void store_vector(__nv_bfloat16* p, const float* v) {
        uint32_t words[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const __nv_bfloat162 pair = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
            words[i] = *reinterpret_cast<const uint32_t*>(&pair);
        }
        *reinterpret_cast<uint4*>(p) = make_uint4(words[0], words[1], words[2], words[3]);
    }
    __device__ static void store_zero(__nv_bfloat16* p) { *p = __float2bfloat16_rn(0.0f); }
};

/* ---- online softmax state (base 2) ---- */

struct SoftmaxState {
    float m;  // running max of y (meaningless while s == 0)
    float s;  // sum 2^(y - m)
    float u;  // sum 2^(y - m) (y - m)
};

__device__ __forceinline__ SoftmaxState empty_state() { return {-INFINITY, 0.0f, 0.0f}; }

/* Adds the state (m2, s2, u2) to `a`, rescaling to the larger maximum. An empty state
 * (s = 0) contributes nothing; a NaN anywhere propagates into s (the row is then non-finite). */
__device__ __forceinline__ void merge(SoftmaxState& a, float m2, float s2, float u2) {
    if (s2 == 0.0f) return;
    if (a.s == 0.0f) {
        a = {m2, s2, u2};
        return;
    }
    if (m2 > a.m) {
        const float d = a.m - m2;  // <= 0
        const float f = exp2f(d);
        a.u = f * (a.u + d * a.s) + u2;
        a.s = f * a.s + s2;
        a.m = m2;
    } else {
        const float d = m2 - a.m;
        const float f = exp2f(d);
        a.u += f * (u2 + d * s2);
        a.s += f * s2;
    }
}

/* Folds n values of y into the state: one rescale per call, not per element. */
template <int N>
__device__ __forceinline__ void accumulate(SoftmaxState& st, const float (&y)[N]) {
    float cm = y[0];
#pragma unroll
    for (int i = 1; i < N; ++i) cm = fmaxf(cm, y[i]);  // fmaxf skips NaN; the sum below catches it
    if (cm == -INFINITY) return;  // only -Inf (or padding): probability 0
    float cs = 0.0f, cu = 0.0f;
#pragma unroll
    for (int i = 0; i < N; ++i) {
        const float d = y[i] - cm;  // NaN for NaN / +Inf inputs
        const float e = exp2f(d);
        cs += e;
        cu += e > 0.0f ? e * d : 0.0f;  // -Inf: e = 0, and 0 * -Inf must not become NaN
    }
    merge(st, cm, cs, cu);
}

/* Merges the states of a warp into lane 0 (fixed butterfly order). */
__device__ __forceinline__ void warp_merge(SoftmaxState& st) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        const float m2 = __shfl_down_sync(kFullMask, st.m, offset);
        const float s2 = __shfl_down_sync(kFullMask, st.s, offset);
        const float u2 = __shfl_down_sync(kFullMask, st.u, offset);
        merge(st, m2, s2, u2);
    }
}

/* Merges the states of the whole block into thread 0. */
__device__ SoftmaxState block_merge(SoftmaxState st) {
    __shared__ float sm[32], ss[32], su[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    warp_merge(st);
    if (lane == 0) {
        sm[warp] = st.m;
        ss[warp] = st.s;
        su[warp] = st.u;
    }
    __syncthreads();
    if (warp == 0) {
        const int n_warps = blockDim.x >> 5;
        st = lane < n_warps ? SoftmaxState{sm[lane], ss[lane], su[lane]} : empty_state();
        warp_merge(st);
    }
    return st;
}

/* Streams one row into this thread's state; `lane` / `width`: this thread's place in the row's group. */
template <typename T>
__device__ void stream_row(const T* row, int64_t vocab, float scale, bool vector_ok, int lane,
                           int width, SoftmaxState& st) {
    constexpr int kPer = Elem<T>::kPerVector;
    constexpr int kStep = kVectorsPerStep;
    int64_t tail_begin = 0;
    if (vector_ok) {
        const int64_t n_vectors = vocab / kPer;
        for (int64_t v0 = lane; v0 < n_vectors; v0 += static_cast<int64_t>(width) * kStep) {
            float y[kStep * kPer];
#pragma unroll
            for (int k = 0; k < kStep; ++k) {
                const int64_t v = v0 + static_cast<int64_t>(k) * width;
                if (v < n_vectors) {
                    Elem<T>::load_vector(row + v * kPer, &y[k * kPer]);
                } else {
#pragma unroll
                    for (int j = 0; j < kPer; ++j) y[k * kPer + j] = -INFINITY;
                }
            }
#pragma unroll
            for (int j = 0; j < kStep * kPer; ++j) y[j] *= scale;
            accumulate(st, y);
        }
        tail_begin = n_vectors * kPer;
    }
    for (int64_t c0 = tail_begin + lane; c0 < vocab; c0 += static_cast<int64_t>(width) * kStep) {
        float y[kStep];
#pragma unroll
        for (int k = 0; k < kStep; ++k) {
            const int64_t c = c0 + static_cast<int64_t>(k) * width;
            y[k] = c < vocab ? Elem<T>::load(row + c) * scale : -INFINITY;
        }
        accumulate(st, y);
    }
}

struct ForwardArgs {
    const void* logits;
    const int64_t* targets;
    float* logp;
    float* entropy;  // may be null
    float* lse;
    int64_t n_rows, vocab, row_stride;
    float scale;       // log2(e) / T
    bool vector_ok;    // every row start is 16-byte aligned
    unsigned long long* report;  // [0] non-finite rows, [1] max(n_rows - row) of them, [2] same for bad targets
};

/* Writes the outputs of one row from its merged state (called by the group's first thread). */
template <typename T>
__device__ void finish_row(const ForwardArgs& a, int64_t r, const SoftmaxState& st) {
    const int64_t target = a.targets[r];
    if (target < 0 || target >= a.vocab) {
        atomicMax(&a.report[2], static_cast<unsigned long long>(a.n_rows - r));
        a.logp[r] = 0.0f;
        if (a.entropy != nullptr) a.entropy[r] = 0.0f;
        a.lse[r] = NAN;
        return;
    }
    const bool finite = st.s > 0.0f && isfinite(st.s) && isfinite(st.m) && isfinite(st.u);
    if (!finite) {
        atomicAdd(&a.report[0], 1ull);
        atomicMax(&a.report[1], static_cast<unsigned long long>(a.n_rows - r));
        a.logp[r] = 0.0f;
        if (a.entropy != nullptr) a.entropy[r] = 0.0f;
        a.lse[r] = NAN;
        return;
    }
    const T* row = static_cast<const T*>(a.logits) + r * a.row_stride;
    const float log2_s = log2f(st.s);
    const float lse2 = st.m + log2_s;
    const float y_target = Elem<T>::load(row + target) * a.scale;
    a.logp[r] = (y_target - lse2) * kLn2;
    a.lse[r] = lse2 * kLn2;
    if (a.entropy != nullptr) a.entropy[r] = fmaxf((log2_s - st.u / st.s) * kLn2, 0.0f);
}

/* One warp per row; blockDim.x / 32 rows per block. */
template <typename T>
__global__ void forward_warp_rows(ForwardArgs a) {
    const int lane = threadIdx.x & 31;
    const int64_t r = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= a.n_rows) return;  // whole warps leave together
    const T* row = static_cast<const T*>(a.logits) + r * a.row_stride;
    SoftmaxState st = empty_state();
    stream_row(row, a.vocab, a.scale, a.vector_ok, lane, 32, st);
    warp_merge(st);
    if (lane == 0) finish_row<T>(a, r, st);
}

/* One block per row. */
template <typename T>
__global__ void forward_block_rows(ForwardArgs a) {
    const int64_t r = blockIdx.x;
    const T* row = static_cast<const T*>(a.logits) + r * a.row_stride;
    SoftmaxState st = empty_state();
    stream_row(row, a.vocab, a.scale, a.vector_ok, threadIdx.x, blockDim.x, st);
    st = block_merge(st);
    if (threadIdx.x == 0) finish_row<T>(a, r, st);
}

struct BackwardArgs {
    const void* logits;
    const int64_t* targets;
    const float* lse;
    const float* entropy;       // read only where grad_entropy is given
    const float* grad_logp;     // may be null (0)
    const float* grad_entropy;  // may be null (0)
    void* grad_logits;          // may alias logits
    int64_t n_rows, vocab, row_stride;
    float scale;     // log2(e) / T
    float inv_temp;  // 1 / T
    bool vector_ok;
};

/* Per-row constants of the backward. */
struct RowGrad {
    bool zero;      // the forward found the row non-finite (lse = NaN): gradient 0
    int64_t target;
    float lse2;     // lse * log2(e)
    float g_logp, g_entropy, entropy;
};

__device__ __forceinline__ RowGrad row_grad(const BackwardArgs& a, int64_t r) {
    RowGrad g;
    const float lse = a.lse[r];
    g.target = a.targets[r];
    // An out-of-range target was reported by the forward; never index with it.
    g.zero = isnan(lse) || g.target < 0 || g.target >= a.vocab;
    g.lse2 = lse * kLog2e;
    g.g_logp = a.grad_logp != nullptr ? a.grad_logp[r] : 0.0f;
    g.g_entropy = a.grad_entropy != nullptr ? a.grad_entropy[r] : 0.0f;
    g.entropy = a.grad_entropy != nullptr ? a.entropy[r] : 0.0f;
    return g;
}

/* d loss / d logit for one element: (g_logp (onehot - p) - g_H p (log p + H)) / T. */
__device__ __forceinline__ float element_grad(const BackwardArgs& a, const RowGrad& g, float x,
                                              int64_t col) {
    const float d2 = x * a.scale - g.lse2;  // log2 p
    const float p = exp2f(d2);
    const float log_p = d2 * kLn2;
    const float onehot = col == g.target ? 1.0f : 0.0f;
    const float entropy_term = p > 0.0f ? g.g_entropy * p * (log_p + g.entropy) : 0.0f;
    return (g.g_logp * (onehot - p) - entropy_term) * a.inv_temp;
}

template <typename T>
__device__ void backward_row(const BackwardArgs& a, int64_t r, int lane, int width) {
    constexpr int kPer = Elem<T>::kPerVector;
    const RowGrad g = row_grad(a, r);
    // No __restrict__: out may alias in; each element is read before the same thread writes it.
    const T* in = static_cast<const T*>(a.logits) + r * a.row_stride;
    T* out = static_cast<T*>(a.grad_logits) + r * a.row_stride;
    int64_t tail_begin = 0;
    if (a.vector_ok) {
        const int64_t n_vectors = a.vocab / kPer;
        for (int64_t v = lane; v < n_vectors; v += width) {
            float x[kPer];
            if (g.zero) {
#pragma unroll
                for (int j = 0; j < kPer; ++j) x[j] = 0.0f;
            } else {
                Elem<T>::load_vector(in + v * kPer, x);
#pragma unroll
                for (int j = 0; j < kPer; ++j) x[j] = element_grad(a, g, x[j], v * kPer + j);
            }
            Elem<T>::store_vector(out + v * kPer, x);
        }
        tail_begin = n_vectors * kPer;
    }
    for (int64_t c = tail_begin + lane; c < a.vocab; c += width) {
        if (g.zero) {
            Elem<T>::store_zero(out + c);
        } else {
            Elem<T>::store(out + c, element_grad(a, g, Elem<T>::load(in + c), c));
        }
    }
}

template <typename T>
__global__ void backward_warp_rows(BackwardArgs a) {
    const int64_t r = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= a.n_rows) return;
    backward_row<T>(a, r, threadIdx.x & 31, 32);
}

template <typename T>
__global__ void backward_block_rows(BackwardArgs a) {
    backward_row<T>(a, blockIdx.x, threadIdx.x, blockDim.x);
}

/* ---- host side ---- */

/* How rows map to threads: a warp per row for small vocabularies, else a block per row. */
struct LaunchShape {
    bool warp_per_row;
    int threads;
    unsigned blocks;
};

LaunchShape launch_shape(int64_t n_rows, int64_t vocab) {
    if (vocab <= kWarpRowMaxVocab) {
        const int64_t rows_per_block = kThreadsWarpRows / 32;
        return {true, kThreadsWarpRows, static_cast<unsigned>((n_rows + rows_per_block - 1) / rows_per_block)};
    }
    return {false, vocab <= kLargeVocab ? kThreadsMidVocab : kThreadsLargeVocab, static_cast<unsigned>(n_rows)};
}

int element_size(int32_t dtype) { return dtype == VLMRL_DTYPE_F32 ? 4 : 2; }

/* Every row start is 16-byte aligned when the base is and the stride is a multiple of 16 bytes. */
bool rows_vector_aligned(const void* base, const vlmrl_token_logprobs_config& cfg) {
    return vlmrl_cuda::is_aligned(base, 16) && (cfg.row_stride * element_size(cfg.dtype)) % 16 == 0;
}

/* The shared checks plus the CUDA-only limit on n_rows. */
int validate_config(const vlmrl_token_logprobs_config* cfg, const char* fn) {
    const int status = vlmrl_validate_token_logprobs_config(cfg, fn);
    if (status != VLMRL_OK) return status;
    if (cfg->n_rows > 0x7fffffffLL)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: n_rows must be < 2^31 on CUDA, got %" PRId64, fn,
                               cfg->n_rows);
    return VLMRL_OK;
}

template <typename T>
void launch_forward(const LaunchShape& shape, const ForwardArgs& args, cudaStream_t stream) {
    if (shape.warp_per_row)
        forward_warp_rows<T><<<shape.blocks, shape.threads, 0, stream>>>(args);
    else
        forward_block_rows<T><<<shape.blocks, shape.threads, 0, stream>>>(args);
}

template <typename T>
void launch_backward(const LaunchShape& shape, const BackwardArgs& args, cudaStream_t stream) {
    if (shape.warp_per_row)
        backward_warp_rows<T><<<shape.blocks, shape.threads, 0, stream>>>(args);
    else
        backward_block_rows<T><<<shape.blocks, shape.threads, 0, stream>>>(args);
}

}  // namespace

extern "C" int vlmrl_token_logprobs_forward_cuda(const vlmrl_token_logprobs_config* cfg,
                                                 const void* logits, const int64_t* targets,
                                                 float* logp, float* entropy, float* lse,
                                                 vlmrl_token_logprobs_result* result, void* stream_ptr) {
    static const char* const fn = "vlmrl_token_logprobs_forward_cuda";
    vlmrl_clear_error();
    if (result == nullptr) return vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "%s: result must not be NULL", fn);
    result->nonfinite_count = 0;
    result->first_nonfinite = -1;
    int status = validate_config(cfg, fn);
    if (status != VLMRL_OK) return status;
    if (cfg->n_rows == 0) return VLMRL_OK;
    if ((status = vlmrl_validate_token_logprobs_forward_pointers(logits, targets, logp, lse, fn)) != VLMRL_OK)
        return status;

    cudaStream_t stream = vlmrl_cuda::as_stream(stream_ptr);
    vlmrl_cuda::StreamScratch report_buffer(stream);
    if ((status = report_buffer.allocate(3 * sizeof(unsigned long long))) != VLMRL_OK) return status;
    auto* report = report_buffer.at<unsigned long long>(0);
    if ((status = vlmrl_cuda::check(cudaMemsetAsync(report, 0, 3 * sizeof(unsigned long long), stream),
                                    "cudaMemsetAsync")) != VLMRL_OK)
        return status;

    ForwardArgs args;
    args.logits = logits;
    args.targets = targets;
    args.logp = logp;
    args.entropy = entropy;
    args.lse = lse;
    args.n_rows = cfg->n_rows;
    args.vocab = cfg->vocab;
    args.row_stride = cfg->row_stride;
    args.scale = kLog2e / cfg->temperature;
    args.vector_ok = rows_vector_aligned(logits, *cfg);
    args.report = report;
    const LaunchShape shape = launch_shape(cfg->n_rows, cfg->vocab);
    if (cfg->dtype == VLMRL_DTYPE_F32)
        launch_forward<float>(shape, args, stream);
    else
        launch_forward<__nv_bfloat16>(shape, args, stream);
    if ((status = vlmrl_cuda::check_launch("token_logprobs forward kernel")) != VLMRL_OK) return status;

    unsigned long long host_report[3];
    if ((status = vlmrl_cuda::check(cudaMemcpyAsync(host_report, report, sizeof host_report,
                                                    cudaMemcpyDeviceToHost, stream),
                                    "cudaMemcpyAsync (forward report)")) != VLMRL_OK)
        return status;
    if ((status = vlmrl_cuda::check(cudaStreamSynchronize(stream), "token_logprobs forward")) != VLMRL_OK)
        return status;

    if (host_report[2] != 0) {
        // Same error as the CPU kernel: the first row whose target is outside the vocabulary.
        const int64_t row = cfg->n_rows - static_cast<int64_t>(host_report[2]);
        int64_t bad_target = 0;
        cudaMemcpy(&bad_target, targets + row, sizeof bad_target, cudaMemcpyDeviceToHost);
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG,
                               "%s: targets[%" PRId64 "] must be in [0, vocab = %" PRId64 "), got %" PRId64, fn,
                               row, cfg->vocab, bad_target);
    }
    result->nonfinite_count = static_cast<int64_t>(host_report[0]);
    result->first_nonfinite = host_report[0] > 0 ? cfg->n_rows - static_cast<int64_t>(host_report[1]) : -1;
    return VLMRL_OK;
}

extern "C" int vlmrl_token_logprobs_backward_cuda(const vlmrl_token_logprobs_config* cfg,
                                                  const void* logits, const int64_t* targets,
                                                  const float* lse, const float* entropy,
                                                  const float* grad_logp, const float* grad_entropy,
                                                  void* grad_logits, void* stream_ptr) {
    static const char* const fn = "vlmrl_token_logprobs_backward_cuda";
    vlmrl_clear_error();
    int status = validate_config(cfg, fn);
    if (status != VLMRL_OK) return status;
    if (cfg->n_rows == 0) return VLMRL_OK;
    if ((status = vlmrl_validate_token_logprobs_backward_pointers(logits, targets, lse, entropy, grad_entropy,
                                                                  grad_logits, fn)) != VLMRL_OK)
        return status;

    // The targets are not re-validated here (that would need a stream synchronization):
    // the forward, which must run first to produce lse, rejects out-of-range targets,
    // and this kernel writes a zero gradient for such a row instead of indexing with it.
    BackwardArgs args;
    args.logits = logits;
    args.targets = targets;
    args.lse = lse;
    args.entropy = entropy;
    args.grad_logp = grad_logp;
    args.grad_entropy = grad_entropy;
    args.grad_logits = grad_logits;
    args.n_rows = cfg->n_rows;
    args.vocab = cfg->vocab;
    args.row_stride = cfg->row_stride;
    args.scale = kLog2e / cfg->temperature;
    args.inv_temp = 1.0f / cfg->temperature;
    args.vector_ok = rows_vector_aligned(logits, *cfg) && rows_vector_aligned(grad_logits, *cfg);
    const LaunchShape shape = launch_shape(cfg->n_rows, cfg->vocab);
    cudaStream_t stream = vlmrl_cuda::as_stream(stream_ptr);
    if (cfg->dtype == VLMRL_DTYPE_F32)
        launch_backward<float>(shape, args, stream);
    else
        launch_backward<__nv_bfloat16>(shape, args, stream);
    return vlmrl_cuda::check_launch("token_logprobs backward kernel");
}
