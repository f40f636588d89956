/*
 * CUDA kernel benchmark: the fused policy loss and token log-probs + entropy, each
 * against a device-to-device copy (the GPU's bandwidth ceiling). Built by CMake with
 * -DVLMRL_CUDA_BENCH=ON; benchmarks/gpu/check.sh builds and runs it, and
 * benchmarks/gpu/torch_peer.py times the same math in PyTorch on the same cases.
 *
 * Cases (the CPU benchmarks' modes, benchmarks/src/.../PolicyLossCase.java):
 *   policy loss, fp32, rows of 1024 tokens, per-token advantages, token-mean aggregation:
 *     ppo, clip-higher, aaac, aaac-k3-dads  x  1M, 4M, 16M tokens
 *   token log-probs + entropy, forward and backward (not in place):
 *     (N, V) = (2048, 32768), (8192, 151936)  x  fp32, bf16
 *
 * Every timing is the whole C call as a caller sees it (workspace allocation, every
 * kernel, the result copy and the stream synchronization of the forward calls): the
 * mean over `iters` back-to-back calls between two CUDA events, best of `repeats` such
 * loops, after a warm-up. Bytes are the minimal bytes the op must move (the CPU
 * benchmarks' byte models, benchmarks/src/.../ByteModel.java):
 *   policy loss:  17 B per token (logp, old, adv, grad 4 B each; mask 1 B), + 4 B with the KL's ref
 *   log-probs:    3 N V e + 44 N (forward reads the logits, backward reads them again and writes
 *                 the gradient; e = 4 or 2 bytes; 44 B per row of targets, lse, entropy, gradients)
 * The copy's bandwidth counts bytes read plus bytes written.
 *
 * Each case is also checked, outside the timed loops: the policy loss against the CPU
 * kernel of the same library on the same inputs, the log-probs on three rows against
 * a double-precision host computation. A failed check or a failed call exits with 1.
 *
 * Output: a human-readable line per case on stdout and, with --out FILE, one JSON object
 * per line (kinds: device, copy, policy_loss, token_logprobs; with --ncu, ncu_case).
 */
#include <cuda_bf16.h>
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

namespace {

/* ---------------- options and output ---------------- */

struct Options {
    bool policy = true, logprobs = true, copy = true;
    bool quick = false;  // small sizes: a smoke test of the harness itself
    bool ncu = false;    // one profiled call per large case for Nsight Compute, no timing
    int warmup = 3;
    int iters = 20;      // log-probs and copy; the policy loss (microseconds per call) uses 5x
    int repeats = 3;
    std::string out;
};

FILE* g_json = nullptr;

const char* kUsage =
    "usage: bench_cuda [--out FILE] [--only copy,policy,logprobs] [--quick] [--iters N] [--warmup N]\n"
    "                  [--repeats N] [--ncu] [--info] [--list] [--help]\n"
    "  --out FILE   also write one JSON object per line (device, copy, policy_loss, token_logprobs)\n"
    "  --only LIST  run only these groups (default: all)\n"
    "  --quick      small sizes, for a smoke test of the harness (64K tokens; 256 and 64 logit rows)\n"
    "  --iters N    timed calls per loop for log-probs and copy (default 20; policy loss uses 5 N)\n"
    "  --warmup N   untimed calls first (default 3; policy loss uses 3 N)\n"
    "  --repeats N  timed loops per case, the best mean is reported (default 3)\n"
    "  --ncu        for Nsight Compute (ncu --profile-from-start off): each large case once inside\n"
    "               cudaProfilerStart/Stop, after a marker kernel whose grid size is the case number;\n"
    "               writes kind=ncu_case records instead of timings\n"
    "  --info       print the device and CUDA versions and exit (1 when the runtime sees no GPU)\n"
    "  --list       print the cases and exit (needs no GPU)\n";

void json_line(const std::string& fields) {
    if (g_json != nullptr) {
        std::fprintf(g_json, "{\"tool\": \"bench_cuda\", %s}\n", fields.c_str());
        std::fflush(g_json);
    }
}

std::string jstr(const char* key, const std::string& value) {
    std::string s = "\"" + std::string(key) + "\": \"";
    for (char c : value) {
        if (c == '"' || c == '\\') s += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) s += c;
    }
    return s + "\"";
}

std::string jnum(const char* key, double value) {
    char buf[64];
    if (std::isfinite(value))
        std::snprintf(buf, sizeof buf, "%.6g", value);
    else
        std::snprintf(buf, sizeof buf, "null");
    return "\"" + std::string(key) + "\": " + buf;
}

std::string jint(const char* key, long long value) { return "\"" + std::string(key) + "\": " + std::to_string(value); }

[[noreturn]] void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char* fmt, ...) {
    std::fflush(stdout);
    std::fprintf(stderr, "bench_cuda: FAILED: ");
    va_list args;
    va_start(args, fmt);
    std::vfprintf(stderr, fmt, args);
    va_end(args);
    std::fprintf(stderr, "\n");
    std::exit(1);
}

void check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) fail("%s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}

void check_vlmrl(int code, const char* what) {
    if (code != VLMRL_OK) fail("%s returned %d: %s", what, code, vlmrl_last_error());
}

template <typename T>
T* device_alloc(size_t count) {
    T* p = nullptr;
    check(cudaMalloc(&p, std::max<size_t>(count, 1) * sizeof(T)), "cudaMalloc");
    return p;
}

template <typename T>
T* device_copy(const std::vector<T>& host) {
    T* p = device_alloc<T>(host.size());
    check(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
    return p;
}

template <typename T>
std::vector<T> host_copy(const T* device, size_t count) {
    std::vector<T> host(count);
    check(cudaMemcpy(host.data(), device, count * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    return host;
}

/* ---------------- inputs generated on the device ---------------- */

__host__ __device__ inline uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A standard normal sample for (seed, index): Box-Muller on two hashed uniforms. */
__device__ inline float normal_at(uint64_t seed, uint64_t i) {
    const uint64_t h = splitmix64(seed * 0x100000001B3ull ^ i);
    const float u1 = (static_cast<float>(h >> 40) + 1.0f) * (1.0f / 16777217.0f);  // (0, 1]
    const float u2 = static_cast<float>((h >> 16) & 0xFFFFFF) * (1.0f / 16777216.0f);
    return sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
}

/* out[i] = (base ? base[i] : 0) + mean + std * N(0, 1) */
__global__ void fill_normal(float* out, const float* base, int64_t n, uint64_t seed, float mean, float stddev) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        out[i] = (base != nullptr ? base[i] : 0.0f) + mean + stddev * normal_at(seed, static_cast<uint64_t>(i));
}

__global__ void fill_normal_bf16(__nv_bfloat16* out, int64_t n, uint64_t seed, float stddev) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        out[i] = __float2bfloat16(stddev * normal_at(seed, static_cast<uint64_t>(i)));
}

/* mask[i, t] = t < lengths[i] */
__global__ void fill_mask(uint8_t* mask, const int32_t* lengths, int64_t row_len, int64_t n) {
    for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
         k += static_cast<int64_t>(gridDim.x) * blockDim.x)
        mask[k] = (k % row_len) < lengths[k / row_len] ? 1 : 0;
}

/* Marks the start of a case in an Nsight Compute profile: the grid size is the case number. */
__global__ void vlmrl_bench_marker() {}

constexpr unsigned kFillBlocks = 2048, kFillThreads = 256;

/* ---------------- timing ---------------- */

/* Mean milliseconds per call of fn(): best of `repeats` loops of `iters` calls, after `warmup`. */
template <typename Fn>
double time_ms(Fn fn, int warmup, int iters, int repeats) {
    for (int i = 0; i < warmup; ++i) fn();
    check(cudaDeviceSynchronize(), "warm-up");
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    double best = INFINITY;
    for (int r = 0; r < repeats; ++r) {
        check(cudaEventRecord(start), "cudaEventRecord");
        for (int i = 0; i < iters; ++i) fn();
        check(cudaEventRecord(stop), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "timed loop");
        float ms = 0.0f;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        best = std::min(best, static_cast<double>(ms) / iters);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return best;
}

/* Device-to-device copy of `bytes` (cudaMemcpyAsync): GB/s counting bytes read plus written. */
double copy_gbps(size_t bytes, const Options& o) {
    void* a = device_alloc<char>(bytes);
    void* b = device_alloc<char>(bytes);
    check(cudaMemset(a, 1, bytes), "cudaMemset");
    const double ms = time_ms([&] { cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice); }, o.warmup, o.iters,
                              o.repeats);
    check(cudaGetLastError(), "cudaMemcpyAsync device to device");
    cudaFree(a);
    cudaFree(b);
    return 2.0 * static_cast<double>(bytes) / (ms * 1e6);
}

/* ---------------- cases ---------------- */

struct LossMode {
    const char* name;
    int32_t clip_mode;
    float eps_high;
    bool k3_dads;
};

const LossMode kLossModes[] = {
    {"ppo", VLMRL_CLIP_PPO, 0.2f, false},
    {"clip-higher", VLMRL_CLIP_HIGHER, 0.28f, false},
    {"aaac", VLMRL_CLIP_AAAC, 0.0f, false},
    {"aaac-k3-dads", VLMRL_CLIP_AAAC, 0.0f, true},
};
constexpr int64_t kRowLen = 1024;  // PolicyLossInputs.ROW_LEN

std::vector<int64_t> loss_token_counts(const Options& o) {
    if (o.quick) return {64 * 1024};
    if (o.ncu) return {4 << 20, 16 << 20};
    return {1 << 20, 4 << 20, 16 << 20};
}

struct LogitsShape {
    int64_t n_rows, vocab;
};

std::vector<LogitsShape> logits_shapes(const Options& o) {
    if (o.quick) return {{256, 32768}, {64, 151936}};
    return {{2048, 32768}, {8192, 151936}};
}

int g_marker = 0;

/* In --ncu mode: records the case and launches its marker, inside the profiled range. */
void ncu_case(const std::string& fields) {
    ++g_marker;
    json_line("\"kind\": \"ncu_case\", " + jint("marker", g_marker) + ", " + fields);
    vlmrl_bench_marker<<<static_cast<unsigned>(g_marker), 1>>>();
    check(cudaGetLastError(), "marker kernel");
}

/* Inputs as PolicyLossInputs.java draws them: old ~ N(-1, 0.5), logp = old + 0.15 N,
 * ref = old + 0.1 N, adv ~ N(0, 1) per token, response lengths uniform in [T/4, T],
 * DADS weights uniform in [0.2, 1]. */
struct LossData {
    int64_t n = 0, rows = 0, valid = 0;
    float adv_min = 0, adv_max = 0;
    float *logp = nullptr, *old = nullptr, *ref = nullptr, *adv = nullptr, *kl_weight = nullptr, *grad = nullptr;
    uint8_t* mask = nullptr;

    explicit LossData(int64_t tokens) : n(tokens), rows(tokens / kRowLen) {
        std::mt19937_64 rng(42);
        std::uniform_int_distribution<int32_t> length(kRowLen / 4, kRowLen);
        std::uniform_real_distribution<float> weight(0.2f, 1.0f);
        std::vector<int32_t> lengths(static_cast<size_t>(rows));
        std::vector<float> weights(static_cast<size_t>(rows));
        for (int64_t i = 0; i < rows; ++i) {
            lengths[i] = length(rng);
            weights[i] = weight(rng);
            valid += lengths[i];
        }
        old = device_alloc<float>(n);
        logp = device_alloc<float>(n);
        ref = device_alloc<float>(n);
        adv = device_alloc<float>(n);
        grad = device_alloc<float>(n);
        mask = device_alloc<uint8_t>(n);
        int32_t* d_lengths = device_copy(lengths);
        kl_weight = device_copy(weights);
        fill_normal<<<kFillBlocks, kFillThreads>>>(old, nullptr, n, 1, -1.0f, 0.5f);
        fill_normal<<<kFillBlocks, kFillThreads>>>(logp, old, n, 2, 0.0f, 0.15f);
        fill_normal<<<kFillBlocks, kFillThreads>>>(ref, old, n, 3, 0.0f, 0.1f);
        fill_normal<<<kFillBlocks, kFillThreads>>>(adv, nullptr, n, 4, 0.0f, 1.0f);
        fill_mask<<<kFillBlocks, kFillThreads>>>(mask, d_lengths, kRowLen, n);
        check(cudaGetLastError(), "input generation");
        check(cudaMemset(grad, 0, n * sizeof(float)), "cudaMemset");
        check(cudaDeviceSynchronize(), "input generation");
        cudaFree(d_lengths);
        // AAAC's min-max statistics over the valid tokens.
        const std::vector<float> h_adv = host_copy(adv, static_cast<size_t>(n));
        adv_min = INFINITY;
        adv_max = -INFINITY;
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t t = 0; t < lengths[i]; ++t) {
                const float a = h_adv[static_cast<size_t>(i * kRowLen + t)];
                adv_min = std::min(adv_min, a);
                adv_max = std::max(adv_max, a);
            }
    }
    ~LossData() {
        for (void* p : {static_cast<void*>(logp), static_cast<void*>(old), static_cast<void*>(ref),
                        static_cast<void*>(adv), static_cast<void*>(kl_weight), static_cast<void*>(grad),
                        static_cast<void*>(mask)})
            cudaFree(p);
    }

    /* The config of FusedPolicyLossKernel.java for this mode. */
    vlmrl_policy_loss_config config(const LossMode& m) const {
        vlmrl_policy_loss_config c;
        vlmrl_policy_loss_config_init(&c, rows, kRowLen);
        c.adv_per_token = 1;
        c.eps_low = 0.2f;
        c.agg_mode = VLMRL_AGG_TOKEN_MEAN;
        c.denom = static_cast<double>(valid);
        c.logratio_clamp = 20.0f;
        c.kl_clamp = 20.0f;
        c.k3_clamp = 10.0f;
        c.nonfinite_policy = VLMRL_NONFINITE_ERROR;
        c.clip_mode = m.clip_mode;
        if (m.clip_mode == VLMRL_CLIP_AAAC) {
            c.aaac_norm = VLMRL_AAAC_MINMAX;
            c.aaac_eps_min = 0.20f;
            c.aaac_eps_max = 0.32f;
            c.adv_stat_a = adv_min;
            c.adv_stat_b = adv_max;
        } else {
            c.eps_high = m.eps_high;
        }
        if (m.k3_dads) {
            c.kl_mode = VLMRL_KL_K3;
            c.kl_beta = 1e-3f;
            c.kl_agg_mode = VLMRL_AGG_TOKEN_MEAN;
            c.kl_denom = static_cast<double>(valid);
        }
        return c;
    }

    int call(const vlmrl_policy_loss_config& c, const LossMode& m, vlmrl_policy_loss_result* r) const {
        return vlmrl_policy_loss_cuda(&c, logp, old, adv, mask, m.k3_dads ? ref : nullptr,
                                      m.k3_dads ? kl_weight : nullptr, nullptr, grad, nullptr, r, nullptr);
    }
};

/* The CUDA result against the library's CPU kernel on the same inputs (the native suite's tolerances);
 * returns the number of gradient elements that differ (tokens on a clip boundary, see below). */
int64_t check_loss_against_cpu(const LossData& d, const vlmrl_policy_loss_config& c, const LossMode& m,
                               const vlmrl_policy_loss_result& gpu) {
    const size_t n = static_cast<size_t>(d.n);
    const std::vector<float> logp = host_copy(d.logp, n), old = host_copy(d.old, n), adv = host_copy(d.adv, n),
                             ref = host_copy(d.ref, n), gpu_grad = host_copy(d.grad, n);
    const std::vector<float> kl_weight = host_copy(d.kl_weight, static_cast<size_t>(d.rows));
    const std::vector<uint8_t> mask = host_copy(d.mask, n);
    std::vector<float> cpu_grad(n);
    vlmrl_policy_loss_result cpu{};
    check_vlmrl(vlmrl_policy_loss_cpu(&c, logp.data(), old.data(), adv.data(), mask.data(),
                                      m.k3_dads ? ref.data() : nullptr, m.k3_dads ? kl_weight.data() : nullptr,
                                      nullptr, cpu_grad.data(), nullptr, &cpu),
                "vlmrl_policy_loss_cpu");
    if (gpu.n_valid != cpu.n_valid || gpu.n_valid != d.valid)
        fail("policy loss %s, %lld tokens: n_valid gpu %lld, cpu %lld, expected %lld", m.name,
             static_cast<long long>(d.n), static_cast<long long>(gpu.n_valid), static_cast<long long>(cpu.n_valid),
             static_cast<long long>(d.valid));
    if (!(std::fabs(gpu.loss - cpu.loss) <= 1e-5 + 1e-5 * std::fabs(cpu.loss)))
        fail("policy loss %s, %lld tokens: loss gpu %.12g, cpu %.12g", m.name, static_cast<long long>(d.n), gpu.loss,
             cpu.loss);
    float scale = 0.0f;
    for (float g : cpu_grad) scale = std::max(scale, std::fabs(g));
    int64_t mismatches = 0, first = -1;
    for (size_t k = 0; k < n; ++k)
        if (!(std::fabs(gpu_grad[k] - cpu_grad[k]) <= 1e-6 * scale + 1e-5 * std::fabs(cpu_grad[k]))) {
            if (first < 0) first = static_cast<int64_t>(k);
            ++mismatches;
        }
    // As the native suite: a token whose ratio sits within an ulp or two of a clip bound may take the
    // other branch (gradient 0 instead of -A rho / denom) where the CPU's and the GPU's exp differ
    // by an ulp. That is a few per million tokens; a real error shows in far more.
    if (mismatches > 2 + d.n / 100000)
        fail("policy loss %s, %lld tokens: %lld gradient elements differ from the CPU kernel (first %lld: gpu %.9g, "
             "cpu %.9g)",
             m.name, static_cast<long long>(d.n), static_cast<long long>(mismatches), static_cast<long long>(first),
             gpu_grad[static_cast<size_t>(first)], cpu_grad[static_cast<size_t>(first)]);
    return mismatches;
}

void bench_policy_loss(const Options& o) {
    if (!o.ncu) {
        std::printf("\npolicy loss, forward + backward (whole call: kernels, result copy, sync); rows of %lld\n",
                    static_cast<long long>(kRowLen));
        std::printf("%-14s %10s %10s %10s %10s %12s\n", "mode", "tokens", "us/call", "GB/s", "copy GB/s", "check");
    }
    for (int64_t n : loss_token_counts(o)) {
        const LossData d(n);
        for (const LossMode& m : kLossModes) {
            const vlmrl_policy_loss_config c = d.config(m);
            vlmrl_policy_loss_result r{};
            const std::string key = jstr("case", m.name) + ", " + jint("tokens", n);
            if (o.ncu) {
                check_vlmrl(d.call(c, m, &r), "vlmrl_policy_loss_cuda");  // warm-up, outside the profile
                check(cudaProfilerStart(), "cudaProfilerStart");
                ncu_case("\"case_kind\": \"policy_loss\", " + key);
                check_vlmrl(d.call(c, m, &r), "vlmrl_policy_loss_cuda");
                check(cudaProfilerStop(), "cudaProfilerStop");
                continue;
            }
            check_vlmrl(d.call(c, m, &r), "vlmrl_policy_loss_cuda");
            if (r.nonfinite_count != 0 || !std::isfinite(r.loss))
                fail("policy loss %s: %lld non-finite tokens, loss %g", m.name,
                     static_cast<long long>(r.nonfinite_count), r.loss);
            const int64_t flips = check_loss_against_cpu(d, c, m, r);
            int code = VLMRL_OK;
            const double ms = time_ms(
                [&] {
                    const int rc = d.call(c, m, &r);
                    if (rc != VLMRL_OK) code = rc;
                },
                3 * o.warmup, 5 * o.iters, o.repeats);
            check_vlmrl(code, "vlmrl_policy_loss_cuda (timed)");
            const double bytes = static_cast<double>(n) * (17 + (m.k3_dads ? 4 : 0));
            const double gbps = bytes / (ms * 1e6);
            const double copy = copy_gbps(static_cast<size_t>(bytes / 2), o);
            std::printf("%-14s %10lld %10.1f %10.0f %10.0f %12s\n", m.name, static_cast<long long>(n), ms * 1e3, gbps,
                        copy, "= cpu");
            json_line("\"kind\": \"policy_loss\", " + key + ", \"impl\": \"fused\", " + jnum("ms", ms) + ", " +
                      jnum("bytes", bytes) + ", " + jnum("gbps", gbps) + ", " + jnum("copy_same_gbps", copy) + ", " +
                      jint("iters", 5 * o.iters) + ", " + jnum("loss", r.loss) + ", " + jint("n_valid", r.n_valid) +
                      ", \"cpu_check\": \"ok\", " + jint("grad_boundary_flips", flips));
        }
    }
}

float bf16_to_float(uint16_t h) {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

/* One row of logits on the host, as floats. */
std::vector<float> logits_row(const void* logits, int32_t dtype, int64_t row, int64_t vocab) {
    if (dtype == VLMRL_DTYPE_F32) return host_copy(static_cast<const float*>(logits) + row * vocab, vocab);
    const std::vector<uint16_t> h = host_copy(static_cast<const uint16_t*>(logits) + row * vocab, vocab);
    std::vector<float> out(h.size());
    for (size_t k = 0; k < h.size(); ++k) out[k] = bf16_to_float(h[k]);
    return out;
}

/* Rows 0, N/2 and N-1 against double precision: logp, entropy, lse, and the gradient for
 * upstream gradients of 1 (the native suite's tolerances). */
void spot_check_logprobs(const LogitsShape& s, int32_t dtype, const void* logits, const int64_t* targets,
                         const float* logp, const float* entropy, const float* lse, const void* grad) {
    for (int64_t row : {int64_t{0}, s.n_rows / 2, s.n_rows - 1}) {
        const std::vector<float> z = logits_row(logits, dtype, row, s.vocab);
        const std::vector<float> g = logits_row(grad, dtype, row, s.vocab);
        const int64_t y = host_copy(targets + row, 1)[0];
        const float got_logp = host_copy(logp + row, 1)[0], got_h = host_copy(entropy + row, 1)[0],
                    got_lse = host_copy(lse + row, 1)[0];
        double m = -INFINITY;
        for (float v : z) m = std::max(m, static_cast<double>(v));
        double sum = 0.0;
        for (float v : z) sum += std::exp(v - m);
        const double ref_lse = m + std::log(sum);
        double ref_h = 0.0;
        for (float v : z) {
            const double lp = v - ref_lse;
            ref_h -= std::exp(lp) * lp;
        }
        const double ref_logp = z[static_cast<size_t>(y)] - ref_lse;
        auto close = [](double a, double b, double rtol, double atol) { return std::fabs(a - b) <= atol + rtol * std::fabs(b); };
        if (!close(got_logp, ref_logp, 1e-5, 1e-4) || !close(got_lse, ref_lse, 1e-5, 1e-4) ||
            !close(got_h, ref_h, 1e-4, 1e-4))
            fail("token log-probs %lld x %lld %s, row %lld: logp %.7g (ref %.7g), lse %.7g (ref %.7g), entropy %.7g "
                 "(ref %.7g)",
                 static_cast<long long>(s.n_rows), static_cast<long long>(s.vocab), dtype == VLMRL_DTYPE_F32 ? "fp32" : "bf16",
                 static_cast<long long>(row), got_logp, ref_logp, got_lse, ref_lse, got_h, ref_h);
        std::vector<double> ref_g(z.size());
        double scale = 0.0;
        for (size_t v = 0; v < z.size(); ++v) {
            const double lp = z[v] - ref_lse, p = std::exp(lp);
            ref_g[v] = ((static_cast<int64_t>(v) == y ? 1.0 : 0.0) - p) - p * (lp + ref_h);
            scale = std::max(scale, std::fabs(ref_g[v]));
        }
        const double rtol = dtype == VLMRL_DTYPE_F32 ? 1e-4 : 1.6e-2;
        int64_t bad = 0, first = -1;
        for (size_t v = 0; v < z.size(); ++v)
            if (!close(g[v], ref_g[v], rtol, 1e-5 * scale)) {
                if (first < 0) first = static_cast<int64_t>(v);
                ++bad;
            }
        if (bad != 0)
            fail("token log-probs %lld x %lld %s, row %lld: %lld gradient elements differ (first column %lld: %.7g, "
                 "ref %.7g)",
                 static_cast<long long>(s.n_rows), static_cast<long long>(s.vocab), dtype == VLMRL_DTYPE_F32 ? "fp32" : "bf16",
                 static_cast<long long>(row), static_cast<long long>(bad), static_cast<long long>(first),
                 g[static_cast<size_t>(first)], ref_g[static_cast<size_t>(first)]);
    }
}

void bench_token_logprobs(const Options& o) {
    if (!o.ncu) {
        std::printf("\ntoken log-probs + entropy (forward reads the logits; backward reads them and writes the gradient)\n");
        std::printf("%-6s %6s %7s %10s %10s %10s %10s %10s %8s\n", "dtype", "N", "V", "fwd us", "bwd us", "f+b us",
                    "GB/s", "copy GB/s", "check");
    }
    std::mt19937_64 rng(2);
    for (const LogitsShape& s : logits_shapes(o)) {
        for (int32_t dtype : {VLMRL_DTYPE_F32, VLMRL_DTYPE_BF16}) {
            const char* dtype_name = dtype == VLMRL_DTYPE_F32 ? "fp32" : "bf16";
            const int64_t cells = s.n_rows * s.vocab;
            const size_t esize = dtype == VLMRL_DTYPE_F32 ? 4 : 2;
            void* logits = device_alloc<char>(static_cast<size_t>(cells) * esize);
            void* grad = device_alloc<char>(static_cast<size_t>(cells) * esize);
            if (dtype == VLMRL_DTYPE_F32)
                fill_normal<<<kFillBlocks, kFillThreads>>>(static_cast<float*>(logits), nullptr, cells, 7, 0.0f, 3.0f);
            else
                fill_normal_bf16<<<kFillBlocks, kFillThreads>>>(static_cast<__nv_bfloat16*>(logits), cells, 7, 3.0f);
            check(cudaGetLastError(), "logits generation");
            std::vector<int64_t> h_targets(static_cast<size_t>(s.n_rows));
            std::uniform_int_distribution<int64_t> target(0, s.vocab - 1);
            for (auto& t : h_targets) t = target(rng);
            int64_t* targets = device_copy(h_targets);
            const std::vector<float> ones(static_cast<size_t>(s.n_rows), 1.0f);
            float *logp = device_copy(ones), *entropy = device_copy(ones), *lse = device_copy(ones);
            float *g_logp = device_copy(ones), *g_entropy = device_copy(ones);
            check(cudaDeviceSynchronize(), "logits generation");

            vlmrl_token_logprobs_config c{};
            c.n_rows = s.n_rows;
            c.vocab = s.vocab;
            c.row_stride = s.vocab;
            c.temperature = 1.0f;
            c.dtype = dtype;
            c.nonfinite_policy = VLMRL_NONFINITE_ERROR;
            vlmrl_token_logprobs_result r{};
            int code = VLMRL_OK;
            auto forward = [&] {
                const int rc = vlmrl_token_logprobs_forward_cuda(&c, logits, targets, logp, entropy, lse, &r, nullptr);
                if (rc != VLMRL_OK) code = rc;
            };
            auto backward = [&] {
                const int rc = vlmrl_token_logprobs_backward_cuda(&c, logits, targets, lse, entropy, g_logp, g_entropy,
                                                                  grad, nullptr);
                if (rc != VLMRL_OK) code = rc;
            };
            const std::string key = jint("n", s.n_rows) + ", " + jint("v", s.vocab) + ", " + jstr("dtype", dtype_name);
            if (o.ncu) {
                forward();
                backward();
                check(cudaProfilerStart(), "cudaProfilerStart");
                ncu_case("\"case_kind\": \"token_logprobs\", " + key);
                forward();
                backward();
                check(cudaProfilerStop(), "cudaProfilerStop");
                check(cudaDeviceSynchronize(), "token log-probs");
                check_vlmrl(code, "token log-probs");
            } else {
                forward();
                backward();
                check(cudaDeviceSynchronize(), "token log-probs backward");
                check_vlmrl(code, "token log-probs forward / backward");
                if (r.nonfinite_count != 0) fail("token log-probs: %lld non-finite rows", static_cast<long long>(r.nonfinite_count));
                spot_check_logprobs(s, dtype, logits, targets, logp, entropy, lse, grad);
                const double fwd_ms = time_ms(forward, o.warmup, o.iters, o.repeats);
                const double bwd_ms = time_ms(backward, o.warmup, o.iters, o.repeats);
                check_vlmrl(code, "token log-probs (timed)");
                const double ms = fwd_ms + bwd_ms;
                const double bytes = 3.0 * static_cast<double>(cells) * static_cast<double>(esize) + 44.0 * s.n_rows;
                const double gbps = bytes / (ms * 1e6);
                const double copy = copy_gbps(static_cast<size_t>(cells) * esize, o);
                std::printf("%-6s %6lld %7lld %10.1f %10.1f %10.1f %10.0f %10.0f %8s\n", dtype_name,
                            static_cast<long long>(s.n_rows), static_cast<long long>(s.vocab), fwd_ms * 1e3,
                            bwd_ms * 1e3, ms * 1e3, gbps, copy, "ok");
                json_line("\"kind\": \"token_logprobs\", " + key + ", \"impl\": \"fused\", " + jnum("fwd_ms", fwd_ms) +
                          ", " + jnum("bwd_ms", bwd_ms) + ", " + jnum("ms", ms) + ", " + jnum("bytes", bytes) + ", " +
                          jnum("gbps", gbps) + ", " + jnum("copy_same_gbps", copy) + ", " + jint("iters", o.iters) +
                          ", \"spot_check\": \"ok\"");
            }
            for (void* p : {logits, grad, static_cast<void*>(targets), static_cast<void*>(logp),
                            static_cast<void*>(entropy), static_cast<void*>(lse), static_cast<void*>(g_logp),
                            static_cast<void*>(g_entropy)})
                cudaFree(p);
        }
    }
}

void bench_copy(const Options& o) {
    const size_t bytes = o.quick ? (size_t{64} << 20) : (size_t{1} << 30);
    const double gbps = copy_gbps(bytes, o);
    std::printf("\ndevice-to-device copy of %zu MiB: %.0f GB/s (read + write)\n", bytes >> 20, gbps);
    json_line("\"kind\": \"copy\", " + jnum("bytes", static_cast<double>(bytes)) + ", " +
              jnum("ms", 2.0 * static_cast<double>(bytes) / (gbps * 1e6)) + ", " + jnum("gbps", gbps));
}

/* Device and versions; false (with the runtime's reason) when no GPU is usable. */
bool device_info() {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    if (err != cudaSuccess || count == 0) {
        std::fprintf(stderr,
                     "bench_cuda: the CUDA runtime sees no GPU: %s (driver API version %d, runtime %d; a driver older "
                     "than the toolkit the binary was built with also shows up here)\n",
                     err != cudaSuccess ? cudaGetErrorString(err) : "0 devices", driver, runtime);
        return false;
    }
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties");
    std::printf("device: %s, compute capability %d.%d, %d SMs, %.1f GiB, L2 %d MiB; CUDA driver %d, runtime %d\n", p.name,
                p.major, p.minor, p.multiProcessorCount, static_cast<double>(p.totalGlobalMem) / (1 << 30),
                p.l2CacheSize >> 20, driver, runtime);
    json_line("\"kind\": \"device\", " + jstr("name", p.name) + ", " +
              jstr("cc", std::to_string(p.major) + "." + std::to_string(p.minor)) + ", " +
              jint("sms", p.multiProcessorCount) + ", " +
              jnum("mem_gib", static_cast<double>(p.totalGlobalMem) / (1 << 30)) + ", " +
              jint("l2_mib", p.l2CacheSize >> 20) + ", " + jint("driver", driver) + ", " + jint("runtime", runtime));
    return true;
}

void list_cases(const Options& o) {
    if (o.copy) std::printf("copy: device-to-device, %s\n", o.quick ? "64 MiB" : "1 GiB");
    if (o.policy)
        for (int64_t n : loss_token_counts(o))
            for (const LossMode& m : kLossModes) std::printf("policy_loss: %s, %lld tokens\n", m.name, static_cast<long long>(n));
    if (o.logprobs)
        for (const LogitsShape& s : logits_shapes(o))
            for (const char* dt : {"fp32", "bf16"})
                std::printf("token_logprobs: %lld x %lld %s\n", static_cast<long long>(s.n_rows), static_cast<long long>(s.vocab), dt);
}

int positive_int(const char* flag, const char* value) {
    char* end = nullptr;
    const long v = std::strtol(value, &end, 10);
    if (end == value || *end != '\0' || v < 1 || v > 1000000) {
        std::fprintf(stderr, "bench_cuda: %s expects a positive integer, got '%s' (see --help)\n", flag, value);
        std::exit(2);
    }
    return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    bool info = false, list = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_cuda: %s needs a value (see --help)\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "--out") {
            o.out = value();
        } else if (a == "--only") {
            const std::string groups = std::string(",") + value() + ",";
            o.copy = groups.find(",copy,") != std::string::npos;
            o.policy = groups.find(",policy,") != std::string::npos;
            o.logprobs = groups.find(",logprobs,") != std::string::npos;
            if (!o.copy && !o.policy && !o.logprobs) {
                std::fprintf(stderr, "bench_cuda: --only expects a comma list of copy, policy, logprobs (see --help)\n");
                return 2;
            }
        } else if (a == "--quick") {
            o.quick = true;
        } else if (a == "--ncu") {
            o.ncu = true;
        } else if (a == "--iters") {
            o.iters = positive_int("--iters", value());
        } else if (a == "--warmup") {
            o.warmup = positive_int("--warmup", value());
        } else if (a == "--repeats") {
            o.repeats = positive_int("--repeats", value());
        } else if (a == "--info") {
            info = true;
        } else if (a == "--list") {
            list = true;
        } else {
            std::fprintf(stderr, "bench_cuda: unknown argument '%s' (see --help)\n", a.c_str());
            return 2;
        }
    }
    if (list) {
        list_cases(o);
        return 0;
    }
    if (!o.out.empty()) {
        g_json = std::fopen(o.out.c_str(), "w");
        if (g_json == nullptr) {
            std::fprintf(stderr, "bench_cuda: cannot write %s\n", o.out.c_str());
            return 2;
        }
    }
    if (!device_info()) return 1;
    if (info) return 0;
    if (o.copy && !o.ncu) bench_copy(o);
    if (o.policy) bench_policy_loss(o);
    if (o.logprobs) bench_token_logprobs(o);
    check(cudaDeviceSynchronize(), "end of the benchmark");
    if (g_json != nullptr) std::fclose(g_json);
    return 0;
}
