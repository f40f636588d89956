/*
 * Fused token log-probabilities and entropy from logits, CPU (OpenMP).
 *
 * Forward: each row of logits is streamed once in blocks of kBlock columns: one loop
 * reads a block, scales it to z = logits * (1 / T) into a small L1-resident buffer and
 * takes its maximum; a second loop takes the sums of e^(z - M) and e^(z - M) (z - M)
 * relative to the running row maximum M (rescaled when M grows). With S and Q those sums,
 *   lse = M + log S,   H = -sum p log p = log S - Q / S.
 * Backward: one loop per row reads each logit and writes its gradient (in place when
 * grad_logits == logits), with the one-hot term applied to the target afterwards.
 * No [N, V] temporary is ever made; rows run in parallel.
 */
#include <omp.h>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <limits>

#include "cpu_math.h"
#include "internal.h"
#include "validate.h"
#include "vlmrl/token_logprobs.h"

using vlmrl::cpu::bf16_to_float;
using vlmrl::cpu::fast_exp_bounded_above;
using vlmrl::cpu::float_to_bf16;
using vlmrl::cpu::max_f;

namespace {

/* Columns per block: 8 KiB of floats, resident in L1 between the two passes over it. */
constexpr int64_t kBlock = 2048;

/* log p below this is treated as p = 0 (e^-100 underflows float), which keeps
 * p * log p = 0 for -Inf logits instead of 0 * -Inf = NaN. */
constexpr float kMinLogProb = -100.0f;

/* Element access for the two logit dtypes (same source for the forward and the backward, so
 * both see bit-identical z = logit * (1 / T)). */
inline float load_elem(const float* p, int64_t j) { return p[j]; }
inline float load_elem(const uint16_t* p, int64_t j) { return bf16_to_float(p[j]); }
inline void store_elem(float* p, int64_t j, float v) { p[j] = v; }
inline void store_elem(uint16_t* p, int64_t j, float v) { p[j] = float_to_bf16(v); }

struct RowForward {
    bool finite;  // false: a NaN / +Inf logit, or every logit -Inf (no distribution)
    double lse;
    double entropy;
};

/*
 * One streaming pass over a row: online max, S = sum e^(z-M), Q = sum e^(z-M)(z-M).
 * Per block, the first loop reads the logits from memory once, scales them into the
 * L1-resident buffer and takes the block's maximum and non-finite flag; the second loop
 * works on the buffer.
 */
template <typename T>
RowForward forward_row(const T* row_logits, int64_t vocab, float inv_t) {
    alignas(64) float z[kBlock];
    float running_max = -INFINITY;
    double s = 0.0, q = 0.0;
    for (int64_t col0 = 0; col0 < vocab; col0 += kBlock) {
        const int64_t n = vocab - col0 < kBlock ? vocab - col0 : kBlock;
        const T* src = row_logits + col0;
        float block_max = -INFINITY;
        int bad = 0;
#pragma omp simd reduction(max : block_max) reduction(| : bad)
        for (int64_t j = 0; j < n; ++j) {
            const float v = load_elem(src, j) * inv_t;
            z[j] = v;
            block_max = v > block_max ? v : block_max;
            bad |= !(v < INFINITY);  // NaN or +Inf
        }
        if (bad) return {false, 0.0, 0.0};
        if (block_max == -INFINITY) continue;  // all -Inf: probability 0, contributes nothing

        if (block_max > running_max) {
            if (s > 0.0) {
                // Re-express S and Q relative to the new maximum: z - M' = (z - M) + d.
                const double d = static_cast<double>(running_max) - block_max;
                const double a = std::exp(d);
                q = a * (q + d * s);
                s = a * s;
            }
            running_max = block_max;
        }
        const float m = running_max;
        float block_s = 0.0f, block_q = 0.0f;
#pragma omp simd reduction(+ : block_s, block_q)
        for (int64_t j = 0; j < n; ++j) {
            const float t = max_f(z[j] - m, kMinLogProb);  // <= 0
            const float e = fast_exp_bounded_above(t);
            block_s += e;
            block_q += e * t;
        }
        s += block_s;
        q += block_q;
    }
    if (running_max == -INFINITY) return {false, 0.0, 0.0};
    const double log_s = std::log(s);
    const double entropy = log_s - q / s;
    return {true, running_max + log_s, entropy > 0.0 ? entropy : 0.0};
}

/*
 * grad[v] = (g_logp (onehot_v - p_v) - g_H p_v (log p_v + H)) / T for one row, written as
 * -p_v (a + b (log p_v + H)) with a = g_logp / T, b = g_H / T, plus a at the target.
 * One pass: element j is read, then written (grad may alias logits; no other element is
 * read after it is written), so the in-place backward moves each cache line in and out once.
 */
template <typename T>
void backward_row(const T* row_logits, int64_t vocab, float inv_t, int64_t target, float lse, float entropy,
                  float g_logp, float g_entropy, T* row_grad) {
    const float a = g_logp * inv_t;
    const float b = g_entropy * inv_t;
    // The target's gradient gets +a: computed from the logit before the loop overwrites it.
    const float target_log_p = max_f(load_elem(row_logits, target) * inv_t - lse, kMinLogProb);
    const float target_p = fast_exp_bounded_above(target_log_p);
    const float target_grad = a * (1.0f - target_p) - b * target_p * (target_log_p + entropy);
#pragma omp simd
    for (int64_t j = 0; j < vocab; ++j) {
        const float log_p = max_f(load_elem(row_logits, j) * inv_t - lse, kMinLogProb);
        const float p = fast_exp_bounded_above(log_p);  // log p <= ~0
        store_elem(row_grad, j, -p * (a + b * (log_p + entropy)));
    }
    store_elem(row_grad, target, target_grad);
}

void zero_row(const vlmrl_token_logprobs_config& cfg, void* grad_logits, int64_t row) {
    const int64_t offset = row * cfg.row_stride;
    if (cfg.dtype == VLMRL_DTYPE_F32) {
        float* dst = static_cast<float*>(grad_logits) + offset;
        for (int64_t j = 0; j < cfg.vocab; ++j) dst[j] = 0.0f;
    } else {
        uint16_t* dst = static_cast<uint16_t*>(grad_logits) + offset;
        for (int64_t j = 0; j < cfg.vocab; ++j) dst[j] = 0;
    }
}

int validate_targets(const vlmrl_token_logprobs_config& cfg, const int64_t* targets, const char* fn) {
    // Report the first bad row; a parallel min keeps that deterministic.
    int64_t first_bad = std::numeric_limits<int64_t>::max();
#pragma omp parallel for schedule(static) reduction(min : first_bad)
    for (int64_t row = 0; row < cfg.n_rows; ++row) {
        if ((targets[row] < 0 || targets[row] >= cfg.vocab) && row < first_bad) first_bad = row;
    }
    if (first_bad == std::numeric_limits<int64_t>::max()) return VLMRL_OK;
    return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG,
                           "%s: targets[%" PRId64 "] must be in [0, vocab = %" PRId64 "), got %" PRId64,
                           fn, first_bad, cfg.vocab, targets[first_bad]);
}

}  // namespace

extern "C" int vlmrl_token_logprobs_forward_cpu(const vlmrl_token_logprobs_config* cfg,
                                                const void* logits, const int64_t* targets,
                                                float* logp, float* entropy, float* lse,
                                                vlmrl_token_logprobs_result* result) {
    static const char* const fn = "vlmrl_token_logprobs_forward_cpu";
    vlmrl_clear_error();
    if (result == nullptr) return vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "%s: result must not be NULL", fn);
    result->nonfinite_count = 0;
    result->first_nonfinite = -1;
    int status = vlmrl_validate_token_logprobs_config(cfg, fn);
    if (status != VLMRL_OK) return status;
    if (cfg->n_rows == 0) return VLMRL_OK;
    if ((status = vlmrl_validate_token_logprobs_forward_pointers(logits, targets, logp, lse, fn)) != VLMRL_OK)
        return status;
    const int target_status = validate_targets(*cfg, targets, fn);
    if (target_status != VLMRL_OK) return target_status;

    // z = logit * (1 / T): a multiply instead of a divide per element (T = 1 is exact either way).
    const float inv_t = 1.0f / cfg->temperature;
    int64_t nonfinite_count = 0;
    int64_t first_nonfinite = std::numeric_limits<int64_t>::max();
#pragma omp parallel for schedule(static) reduction(+ : nonfinite_count) reduction(min : first_nonfinite)
    for (int64_t row = 0; row < cfg->n_rows; ++row) {
        const int64_t offset = row * cfg->row_stride;
        const RowForward stats = cfg->dtype == VLMRL_DTYPE_F32
                                     ? forward_row(static_cast<const float*>(logits) + offset, cfg->vocab, inv_t)
                                     : forward_row(static_cast<const uint16_t*>(logits) + offset, cfg->vocab, inv_t);
        if (!stats.finite) {
            // Both policies leave a row the backward recognises (lse = NaN) and zeroes;
            // under VLMRL_NONFINITE_ERROR the caller raises on the counts instead of using it.
            logp[row] = 0.0f;
            if (entropy != nullptr) entropy[row] = 0.0f;
            lse[row] = std::numeric_limits<float>::quiet_NaN();
            ++nonfinite_count;
            if (row < first_nonfinite) first_nonfinite = row;
            continue;
        }
        const double target_logit =
            (cfg->dtype == VLMRL_DTYPE_F32 ? static_cast<const float*>(logits)[offset + targets[row]]
                                           : bf16_to_float(static_cast<const uint16_t*>(logits)[offset + targets[row]])) *
            inv_t;
        logp[row] = static_cast<float>(target_logit - stats.lse);
        if (entropy != nullptr) entropy[row] = static_cast<float>(stats.entropy);
        lse[row] = static_cast<float>(stats.lse);
    }
    result->nonfinite_count = nonfinite_count;
    result->first_nonfinite = nonfinite_count > 0 ? first_nonfinite : -1;
    return VLMRL_OK;
}

extern "C" int vlmrl_token_logprobs_backward_cpu(const vlmrl_token_logprobs_config* cfg,
                                                 const void* logits, const int64_t* targets,
                                                 const float* lse, const float* entropy,
                                                 const float* grad_logp, const float* grad_entropy,
                                                 void* grad_logits) {
    static const char* const fn = "vlmrl_token_logprobs_backward_cpu";
    vlmrl_clear_error();
    int status = vlmrl_validate_token_logprobs_config(cfg, fn);
    if (status != VLMRL_OK) return status;
    if (cfg->n_rows == 0) return VLMRL_OK;
    if ((status = vlmrl_validate_token_logprobs_backward_pointers(logits, targets, lse, entropy, grad_entropy,
                                                                  grad_logits, fn)) != VLMRL_OK)
        return status;
    const int target_status = validate_targets(*cfg, targets, fn);
    if (target_status != VLMRL_OK) return target_status;

    const float inv_t = 1.0f / cfg->temperature;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < cfg->n_rows; ++row) {
        if (std::isnan(lse[row])) {  // the forward found this row non-finite
            zero_row(*cfg, grad_logits, row);
            continue;
        }
        const float g_logp = grad_logp != nullptr ? grad_logp[row] : 0.0f;
        const float g_entropy = grad_entropy != nullptr ? grad_entropy[row] : 0.0f;
        const float h = grad_entropy != nullptr ? entropy[row] : 0.0f;
        const int64_t offset = row * cfg->row_stride;
        if (cfg->dtype == VLMRL_DTYPE_F32) {
            backward_row(static_cast<const float*>(logits) + offset, cfg->vocab, inv_t, targets[row], lse[row], h,
                         g_logp, g_entropy, static_cast<float*>(grad_logits) + offset);
        } else {
            backward_row(static_cast<const uint16_t*>(logits) + offset, cfg->vocab, inv_t, targets[row], lse[row], h,
                         g_logp, g_entropy, static_cast<uint16_t*>(grad_logits) + offset);
        }
    }
    return VLMRL_OK;
}
