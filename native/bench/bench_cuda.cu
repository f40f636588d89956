/*
 * CUDA kernel benchmark: the fused policy loss and token log-probs against a
 * device-to-device copy of the same bytes (the bandwidth ceiling).
 *
 * Not part of the default build. On a GPU machine, from the repository root:
 *   nvcc -std=c++17 -O3 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80
 *        -I native/include -I native/src native/bench/bench_cuda.cu native/src/cuda/cuda_common.cu
 *        native/src/cuda/token_logprobs_cuda.cu native/src/cuda/policy_loss_cuda.cu
 *        native/src/common.cpp native/src/validate.cpp -o /tmp/bench_cuda && /tmp/bench_cuda
 * (one command line).
 * (or configure CMake with -DVLMRL_CUDA_BENCH=ON where that option is wired).
 * benchmarks/gpu/torch_peer.py times the same math in PyTorch for comparison.
 *
 * Every timing is the whole C call as a caller sees it (workspace allocation, all
 * kernels, the result copy and the stream synchronization), averaged over many calls
 * after warm-up. "of copy" compares the call's effective bandwidth (bytes it must
 * read and write once) with cudaMemcpy device-to-device bandwidth on a buffer of
 * the same size.
 */
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

namespace {

void check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) {
        std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(err));
        std::exit(1);
    }
}

void check_vlmrl(int code, const char* what) {
    if (code != VLMRL_OK) {
        std::fprintf(stderr, "%s failed (%d): %s\n", what, code, vlmrl_last_error());
        std::exit(1);
    }
}

template <typename T>
T* device_copy(const std::vector<T>& host) {
    T* p = nullptr;
    check(cudaMalloc(&p, host.size() * sizeof(T) + 16), "cudaMalloc");
    check(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
    return p;
}

/* Mean milliseconds per call of fn() over `iters` calls after `warmup`. */
template <typename Fn>
double time_ms(Fn fn, int warmup, int iters) {
    for (int i = 0; i < warmup; ++i) fn();
    check(cudaDeviceSynchronize(), "warm-up");
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaEventRecord(start);
    for (int i = 0; i < iters; ++i) fn();
    cudaEventRecord(stop);
    check(cudaEventSynchronize(stop), "timing");
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ms / iters;
}

/* Device-to-device copy of `bytes`: GB/s counting the bytes read plus written. */
double copy_gbps(size_t bytes) {
    void *a = nullptr, *b = nullptr;
    check(cudaMalloc(&a, bytes), "cudaMalloc");
    check(cudaMalloc(&b, bytes), "cudaMalloc");
    const double ms = time_ms([&] { cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice); }, 5, 50);
    cudaFree(a);
    cudaFree(b);
    return 2.0 * static_cast<double>(bytes) / (ms * 1e6);
}

struct LossMode {
    const char* name;
    int32_t clip_mode, kl_mode, agg_mode;
    bool adv_per_token, kl_weight;
};

void bench_policy_loss() {
    const LossMode modes[] = {
        {"ppo", VLMRL_CLIP_PPO, VLMRL_KL_NONE, VLMRL_AGG_TOKEN_MEAN, false, false},
        {"clip-higher", VLMRL_CLIP_HIGHER, VLMRL_KL_NONE, VLMRL_AGG_TOKEN_MEAN, false, false},
        {"aaac", VLMRL_CLIP_AAAC, VLMRL_KL_NONE, VLMRL_AGG_TOKEN_MEAN, true, false},
        {"aaac+k3+weights", VLMRL_CLIP_AAAC, VLMRL_KL_K3, VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN, true, true},
    };
    const int64_t token_counts[] = {64 * 1024, 1024 * 1024, 4 * 1024 * 1024};
    const int64_t row_len = 4096;
    std::printf("\npolicy loss (whole call: kernels + result copy + sync)\n");
    std::printf("%-18s %10s %10s %10s %10s %9s\n", "mode", "tokens", "us/call", "GB/s", "copy GB/s", "of copy");
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t n : token_counts) {
        const int64_t n_rows = n / row_len;
        std::vector<float> logp(n), old(n), ref(n), adv_tok(n), adv_row(n_rows), lambda(n_rows, 0.8f);
        std::vector<uint8_t> mask(n);
        for (int64_t k = 0; k < n; ++k) {
            logp[k] = -std::fabs(normal(rng));
            old[k] = logp[k] + 0.1f * normal(rng);
            ref[k] = logp[k] + 0.2f * normal(rng);
            adv_tok[k] = normal(rng);
            mask[k] = (k % row_len) < row_len * 7 / 8 ? 1 : 0;
        }
        for (auto& a : adv_row) a = normal(rng);
        float *d_logp = device_copy(logp), *d_old = device_copy(old), *d_ref = device_copy(ref);
        float *d_adv_tok = device_copy(adv_tok), *d_adv_row = device_copy(adv_row), *d_lambda = device_copy(lambda);
        uint8_t* d_mask = device_copy(mask);
        float* d_grad = device_copy(std::vector<float>(n, 0.0f));
        for (const LossMode& m : modes) {
            vlmrl_policy_loss_config c;
            vlmrl_policy_loss_config_init(&c, n_rows, row_len);
            c.adv_per_token = m.adv_per_token;
            c.clip_mode = m.clip_mode;
            c.eps_high = m.clip_mode == VLMRL_CLIP_HIGHER ? 0.28f : 0.2f;
            c.adv_stat_a = -4.0f;
            c.adv_stat_b = 4.0f;
            c.kl_mode = m.kl_mode;
            c.kl_beta = 0.001f;
            c.kl_denom = static_cast<double>(n);
            c.agg_mode = m.agg_mode;
            c.denom = m.agg_mode == VLMRL_AGG_TOKEN_MEAN ? static_cast<double>(n) : static_cast<double>(n_rows);
            c.nonfinite_policy = VLMRL_NONFINITE_MASK;
            vlmrl_policy_loss_result r{};
            const bool kl_on = m.kl_mode != VLMRL_KL_NONE;
            auto call = [&] {
                check_vlmrl(vlmrl_policy_loss_cuda(&c, d_logp, d_old, m.adv_per_token ? d_adv_tok : d_adv_row, d_mask,
                                                   kl_on ? d_ref : nullptr, m.kl_weight ? d_lambda : nullptr, nullptr,
                                                   d_grad, nullptr, &r, nullptr),
                            "vlmrl_policy_loss_cuda");
            };
            const double ms = time_ms(call, 10, n >= (1 << 20) ? 100 : 500);
            // Bytes that must move once: logp, old, mask, grad, plus adv / ref where per token.
            const double bytes = static_cast<double>(n) *
                                 (4 + 4 + 1 + 4 + (m.adv_per_token ? 4 : 0) + (kl_on ? 4 : 0));
            const double gbps = bytes / (ms * 1e6);
            const double copy = copy_gbps(static_cast<size_t>(bytes / 2));
            std::printf("%-18s %10lld %10.1f %10.0f %10.0f %8.0f%%\n", m.name, static_cast<long long>(n), ms * 1e3,
                        gbps, copy, 100.0 * gbps / copy);
        }
        for (void* p : {static_cast<void*>(d_logp), static_cast<void*>(d_old), static_cast<void*>(d_ref),
                        static_cast<void*>(d_adv_tok), static_cast<void*>(d_adv_row), static_cast<void*>(d_lambda),
                        static_cast<void*>(d_mask), static_cast<void*>(d_grad)})
            cudaFree(p);
    }
}

void bench_token_logprobs() {
    struct Shape {
        int64_t n_rows, vocab;
    };
    const Shape shapes[] = {{2048, 32768}, {512, 151936}};
    std::printf("\ntoken log-probs + entropy (forward: read logits once; backward: read + write in place)\n");
    std::printf("%-6s %8s %8s %12s %10s %12s %10s %10s\n", "dtype", "N", "V", "fwd us", "fwd GB/s", "bwd us",
                "bwd GB/s", "copy GB/s");
    std::mt19937 rng(2);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (const Shape& s : shapes) {
        for (int32_t dtype : {VLMRL_DTYPE_F32, VLMRL_DTYPE_BF16}) {
            const size_t n = static_cast<size_t>(s.n_rows * s.vocab);
            const size_t esize = dtype == VLMRL_DTYPE_F32 ? 4 : 2;
            void* logits = nullptr;
            check(cudaMalloc(&logits, n * esize), "cudaMalloc logits");
            {
                std::vector<float> host(n);
                for (auto& x : host) x = normal(rng);
                if (dtype == VLMRL_DTYPE_F32) {
                    check(cudaMemcpy(logits, host.data(), n * 4, cudaMemcpyHostToDevice), "upload");
                } else {
                    std::vector<__nv_bfloat16> h16(n);
                    for (size_t k = 0; k < n; ++k) h16[k] = __float2bfloat16(host[k]);
                    check(cudaMemcpy(logits, h16.data(), n * 2, cudaMemcpyHostToDevice), "upload");
                }
            }
            std::vector<int64_t> targets(static_cast<size_t>(s.n_rows));
            for (size_t r = 0; r < targets.size(); ++r) targets[r] = static_cast<int64_t>((r * 7919) % s.vocab);
            int64_t* d_targets = device_copy(targets);
            const std::vector<float> ones(static_cast<size_t>(s.n_rows), 1.0f);
            float *logp = device_copy(ones), *entropy = device_copy(ones), *lse = device_copy(ones);
            float *g_logp = device_copy(ones), *g_entropy = device_copy(ones);
            void* grad = nullptr;
            check(cudaMalloc(&grad, n * esize), "cudaMalloc grad");

            vlmrl_token_logprobs_config c{};
            c.n_rows = s.n_rows;
            c.vocab = s.vocab;
            c.row_stride = s.vocab;
            c.temperature = 1.0f;
            c.dtype = dtype;
            c.nonfinite_policy = VLMRL_NONFINITE_MASK;
            vlmrl_token_logprobs_result r{};
            const double fwd_ms = time_ms(
                [&] {
                    check_vlmrl(vlmrl_token_logprobs_forward_cuda(&c, logits, d_targets, logp, entropy, lse, &r, nullptr),
                                "forward");
                },
                3, 20);
            const double bwd_ms = time_ms(
                [&] {
                    check_vlmrl(vlmrl_token_logprobs_backward_cuda(&c, logits, d_targets, lse, entropy, g_logp,
                                                                   g_entropy, grad, nullptr),
                                "backward");
                },
                3, 20);
            const double bytes = static_cast<double>(n * esize);
            std::printf("%-6s %8lld %8lld %12.1f %10.0f %12.1f %10.0f %10.0f\n", dtype == VLMRL_DTYPE_F32 ? "fp32" : "bf16",
                        static_cast<long long>(s.n_rows), static_cast<long long>(s.vocab), fwd_ms * 1e3,
                        bytes / (fwd_ms * 1e6), bwd_ms * 1e3, 2.0 * bytes / (bwd_ms * 1e6), copy_gbps(n * esize));
            for (void* p : {logits, grad, static_cast<void*>(d_targets), static_cast<void*>(logp),
                            static_cast<void*>(entropy), static_cast<void*>(lse), static_cast<void*>(g_logp),
                            static_cast<void*>(g_entropy)})
                cudaFree(p);
        }
    }
}

}  // namespace

int main() {
    if (vlmrl_cuda_device_count() == 0) {
        std::printf("no CUDA device\n");
        return 0;
    }
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
    bench_policy_loss();
    bench_token_logprobs();
    return 0;
}
