/*
 * Fused clipped policy loss, forward and backward in one pass, CUDA.
 * The formulas are in vlmrl/policy_loss.h and docs/algorithms.md; the semantics (config
 * validation, non-finite handling, which branch carries the gradient) follow the CPU
 * kernel, policy_loss_cpu.cpp, token for token.
 *
 * Kernels, all on the caller's stream:
 *  1. count_row_valid (only for SEQ_MEAN_TOKEN_MEAN): valid tokens per (row, column
 *     chunk), summed per row when a token needs L_i. No atomics, no memset.
 *  2. policy_loss_tokens: block b owns the fixed token range [b * kChunk, (b + 1) * kChunk),
 *     each thread four groups of four consecutive tokens (16-byte loads where aligned).
 *     It writes the gradients and one double-precision Partial per block.
 *  3. reduce_partials: one block adds the partials in a fixed order.
 * The grid depends only on the token count, and every reduction has a fixed shape, so
 * the sums are bitwise identical from run to run (and do not depend on the GPU model).
 */
#include <cuda_runtime.h>

#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdint>

#include "cuda_util.cuh"
#include "validate.h"
#include "vlmrl/policy_loss.h"

namespace {

constexpr int kThreads = 256;
constexpr int kTokensPerGroup = 4;  // one float4 per input
constexpr int kGroupsPerThread = 4;
/* Tokens per block of the main kernel; fixes the reduction tree independently of the GPU. */
constexpr int64_t kChunk = static_cast<int64_t>(kThreads) * kTokensPerGroup * kGroupsPerThread;
/* Columns per block of the row-count kernel. */
constexpr int64_t kCountChunk = 8192;
constexpr unsigned kFullMask = 0xffffffffu;

enum SumIndex { kPgLoss, kKlLoss, kEntropyLoss, kPpoKl, kSumKl, kEpsHigh, kRatio, kEntropy, kNumSums };
enum CountIndex {
    kValid, kClipUpper, kClipLower, kDualClip, kNonfinite,
    kAdvPos, kAdvNeg, kAdvPosLarge, kAdvNegLarge, kClipUpperAdvLarge, kClipLowerAdvLarge,
    kNumCounts
};
constexpr long long kNoBadToken = LLONG_MAX;

/* Sums of one block (then of the whole call). Plain data: it lives in shared memory. */
struct Partial {
    double sum[kNumSums];
    long long count[kNumCounts];
    long long first_bad;  // token index * 8 + VLMRL_INPUT_* of the first non-finite valid token
};

__device__ __forceinline__ void zero(Partial& p) {
#pragma unroll
    for (int i = 0; i < kNumSums; ++i) p.sum[i] = 0.0;
#pragma unroll
    for (int i = 0; i < kNumCounts; ++i) p.count[i] = 0;
    p.first_bad = kNoBadToken;
}

__device__ __forceinline__ void add(Partial& into, const Partial& p) {
#pragma unroll
    for (int i = 0; i < kNumSums; ++i) into.sum[i] += p.sum[i];
#pragma unroll
    for (int i = 0; i < kNumCounts; ++i) into.count[i] += p.count[i];
    into.first_bad = min(into.first_bad, p.first_bad);
}

__device__ __forceinline__ void warp_reduce(Partial& p) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
#pragma unroll
        for (int i = 0; i < kNumSums; ++i) p.sum[i] += __shfl_down_sync(kFullMask, p.sum[i], offset);
#pragma unroll
        for (int i = 0; i < kNumCounts; ++i) p.count[i] += __shfl_down_sync(kFullMask, p.count[i], offset);
        p.first_bad = min(p.first_bad, __shfl_down_sync(kFullMask, p.first_bad, offset));
    }
}

/* Reduces over the block in a fixed tree; the total is valid in thread 0. */
__device__ Partial block_reduce(Partial p) {
    __shared__ Partial warp_totals[kThreads / 32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    warp_reduce(p);
    if (lane == 0) warp_totals[warp] = p;
    __syncthreads();
    if (warp == 0) {
        if (lane < kThreads / 32)
            p = warp_totals[lane];
        else
            zero(p);
        warp_reduce(p);
    }
    return p;
}

/* ---- kernel 1: valid tokens per (row, column chunk) ---- */

__global__ void __launch_bounds__(kThreads) count_row_valid(const uint8_t* __restrict__ mask, int64_t row_len,
                                                            int64_t chunks_per_row, int64_t* __restrict__ counts) {
    const int64_t item = blockIdx.x;  // row * chunks_per_row + chunk
    const int64_t row = item / chunks_per_row;
    const int64_t col0 = (item - row * chunks_per_row) * kCountChunk;
    const int64_t col_end = min(col0 + kCountChunk, row_len);
    const uint8_t* row_mask = mask + row * row_len;
    unsigned n = 0;
    for (int64_t c = col0 + threadIdx.x; c < col_end; c += kThreads) n += row_mask[c] != 0;
    n = __reduce_add_sync(kFullMask, n);
    __shared__ unsigned warp_counts[kThreads / 32];
    if ((threadIdx.x & 31) == 0) warp_counts[threadIdx.x >> 5] = n;
    __syncthreads();
    if (threadIdx.x == 0) {
        long long total = 0;
        for (int w = 0; w < kThreads / 32; ++w) total += warp_counts[w];
        counts[item] = total;
    }
}

/* ---- kernel 2: per-token loss and gradients ---- */

struct LossArgs {
    const float* logp;
    const float* old;
    const float* adv;
    const uint8_t* mask;
    const float* ref;        // null when the KL term is off
    const float* kl_weight;  // null: lambda = 1 (also null when the KL term is off)
    const float* entropy;    // null: no entropy term
    float* grad_logp;
    float* grad_entropy;     // written only with an entropy input
    const int64_t* row_counts;  // [n_rows * count_chunks_per_row], null unless an aggregation needs L_i
    int64_t count_chunks_per_row;
    int64_t n_rows, row_len, n_tokens;
    bool adv_per_token, vector_ok;
    vlmrl_policy_loss_config cfg;
    Partial* partials;  // [gridDim.x]
};

/* Per-response values, cached while consecutive tokens stay in one row. */
struct RowContext {
    int64_t row;
    float adv;            // the row's advantage (adv is [B])
    float lambda;         // KL weight of the response
    float eps_high;       // eps_high of the row's advantage (adv is [B])
    double pg_weight;     // aggregation weight of the policy and entropy terms
    double kl_weight;     // aggregation weight of the KL term, times lambda
    float pg_grad_scale;  // pg_weight as float
    float kl_grad_scale;  // kl_beta * kl_weight (lambda included)
    float entropy_grad;   // -entropy_coef * pg_weight
};

/* eps_high of AAAC for advantage a: no clamp of the normalised advantage (as the CPU kernel). */
__device__ __forceinline__ float eps_high_for(const vlmrl_policy_loss_config& c, float a) {
    if (c.clip_mode != VLMRL_CLIP_AAAC) return c.eps_high;
    float normalized;
    if (c.aaac_norm == VLMRL_AAAC_MINMAX) {
        const float range = c.adv_stat_b - c.adv_stat_a;
        normalized = range > 0.0f ? (a - c.adv_stat_a) / range : 0.5f;
    } else {
        normalized = c.adv_stat_b > 0.0f ? normcdff((a - c.adv_stat_a) / c.adv_stat_b) : 0.5f;
    }
    return c.aaac_eps_min + (c.aaac_eps_max - c.aaac_eps_min) * normalized;
}

/* 1 / denom, or 1 / (denom * L_i) for SEQ_MEAN_TOKEN_MEAN (0 for an empty row). */
__device__ __forceinline__ double aggregation_weight(int32_t agg_mode, double denom, long long row_valid) {
    if (agg_mode == VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN)
        return row_valid > 0 ? 1.0 / (denom * static_cast<double>(row_valid)) : 0.0;
    return 1.0 / denom;
}

__device__ RowContext load_row(const LossArgs& a, int64_t row) {
    const vlmrl_policy_loss_config& c = a.cfg;
    const bool kl_on = c.kl_mode != VLMRL_KL_NONE;
    RowContext r;
    r.row = row;
    r.adv = a.adv_per_token ? 0.0f : a.adv[row];
    r.lambda = (kl_on && a.kl_weight != nullptr) ? a.kl_weight[row] : 1.0f;
    r.eps_high = (!a.adv_per_token && isfinite(r.adv)) ? eps_high_for(c, r.adv) : c.eps_high;
    long long row_valid = 0;
    if (a.row_counts != nullptr) {
        for (int64_t k = 0; k < a.count_chunks_per_row; ++k) row_valid += a.row_counts[row * a.count_chunks_per_row + k];
    }
    r.pg_weight = aggregation_weight(c.agg_mode, c.denom, row_valid);
    const double kl_agg = kl_on ? aggregation_weight(c.kl_agg_mode, c.kl_denom, row_valid) : 0.0;
    r.kl_weight = kl_agg * static_cast<double>(r.lambda);
    r.pg_grad_scale = static_cast<float>(r.pg_weight);
    // kl_beta is only validated when the KL term is on: never multiply an unused one.
    r.kl_grad_scale = kl_on ? static_cast<float>(static_cast<double>(c.kl_beta) * kl_agg * r.lambda) : 0.0f;
    r.entropy_grad = static_cast<float>(-static_cast<double>(c.entropy_coef) * r.pg_weight);
    return r;
}

/* Inputs of one token. */
struct Token {
    float logp, old, adv, ref, entropy;
    bool in_mask;
};

/* The first non-finite input of a token, as a VLMRL_INPUT_* id (the CPU kernel's order), or -1. */
__device__ __forceinline__ int first_bad_input(const LossArgs& a, const RowContext& r, const Token& t) {
    const bool kl_on = a.cfg.kl_mode != VLMRL_KL_NONE;
    if (!isfinite(t.logp)) return VLMRL_INPUT_LOGP;
    if (!isfinite(t.old)) return VLMRL_INPUT_OLD;
    if (!isfinite(t.adv)) return VLMRL_INPUT_ADV;
    if (kl_on && !isfinite(t.ref)) return VLMRL_INPUT_REF;
    if (a.entropy != nullptr && !isfinite(t.entropy)) return VLMRL_INPUT_ENTROPY;
    if (kl_on && a.kl_weight != nullptr && !isfinite(r.lambda)) return VLMRL_INPUT_KL_WEIGHT;
    return -1;
}

/*
 * One token: returns d loss / d logp in *grad and d loss / d H in *grad_entropy, and adds
 * its sums to p. Masked and non-finite tokens have zero gradients and no sums.
 */
__device__ __forceinline__ void process_token(const LossArgs& a, const RowContext& r, const Token& t,
                                              int64_t index, Partial& p, float* grad, float* grad_entropy) {
    *grad = 0.0f;
    *grad_entropy = 0.0f;
    if (!t.in_mask) return;
    const int bad = first_bad_input(a, r, t);
    if (bad >= 0) {
        p.count[kNonfinite] += 1;
        p.first_bad = min(p.first_bad, static_cast<long long>(index) * 8 + bad);
        return;
    }
    const vlmrl_policy_loss_config& c = a.cfg;

    // Ratio with the log-ratio clamp (gradient 0 outside it, as autograd of clamp).
    const float raw_lr = t.logp - t.old;
    const float lr = fminf(fmaxf(raw_lr, -c.logratio_clamp), c.logratio_clamp);
    const bool lr_inside = raw_lr >= -c.logratio_clamp && raw_lr <= c.logratio_clamp;
    const float rho = expf(lr);

    const float eps_high = a.adv_per_token ? eps_high_for(c, t.adv) : r.eps_high;
    const float lower = 1.0f - c.eps_low, upper = 1.0f + eps_high;
    const float a_ = t.adv;

    // Clipped surrogate, dual clip, and which branch carries the gradient.
    const float rho_clipped = fminf(fmaxf(rho, lower), upper);
    float pg = fmaxf(-a_ * rho, -a_ * rho_clipped);
    const bool clip_upper = a_ > 0.0f && rho > upper;
    const bool clip_lower = a_ < 0.0f && rho < lower;
    const bool dual = c.dual_clip != 0 && a_ < 0.0f && rho > c.dual_clip_c;
    if (dual) pg = -a_ * c.dual_clip_c;
    const float d_pg = (!(clip_upper || clip_lower || dual) && lr_inside) ? -a_ * rho : 0.0f;

    // KL estimator k (before lambda) and its derivative w.r.t. logp.
    float k = 0.0f, d_k = 0.0f;
    if (c.kl_mode != VLMRL_KL_NONE) {
        const float raw_delta = t.ref - t.logp;
        const float delta = fminf(fmaxf(raw_delta, -c.kl_clamp), c.kl_clamp);
        const bool delta_inside = raw_delta >= -c.kl_clamp && raw_delta <= c.kl_clamp;
        if (c.kl_mode == VLMRL_KL_K1) {
            k = -delta;
            d_k = delta_inside ? 1.0f : 0.0f;
        } else if (c.kl_mode == VLMRL_KL_K2) {
            k = 0.5f * delta * delta;
            d_k = delta_inside ? -delta : 0.0f;
        } else {
            const float e = expf(delta);
            const float raw_k3 = e - delta - 1.0f;
            k = fminf(fmaxf(raw_k3, -c.k3_clamp), c.k3_clamp);
            const bool k3_inside = raw_k3 >= -c.k3_clamp && raw_k3 <= c.k3_clamp;
            d_k = (delta_inside && k3_inside) ? 1.0f - e : 0.0f;
        }
    }

    *grad = r.pg_grad_scale * d_pg + r.kl_grad_scale * d_k;
    if (a.entropy != nullptr) *grad_entropy = r.entropy_grad;

    const float h = a.entropy != nullptr ? t.entropy : 0.0f;
    p.sum[kPgLoss] += r.pg_weight * pg;
    p.sum[kKlLoss] += r.kl_weight * k;
    p.sum[kEntropyLoss] += r.pg_weight * h;
    p.sum[kPpoKl] += t.old - t.logp;
    p.sum[kSumKl] += static_cast<double>(r.lambda) * k;
    p.sum[kEpsHigh] += eps_high;
    p.sum[kRatio] += rho;
    p.sum[kEntropy] += h;
    p.count[kValid] += 1;
    p.count[kClipUpper] += clip_upper;
    p.count[kClipLower] += clip_lower;
    p.count[kDualClip] += dual;
    const bool large = fabsf(a_) >= c.adv_size_split;
    p.count[kAdvPos] += a_ > 0.0f;
    p.count[kAdvNeg] += a_ < 0.0f;
    p.count[kAdvPosLarge] += large && a_ > 0.0f;
    p.count[kAdvNegLarge] += large && a_ < 0.0f;
    p.count[kClipUpperAdvLarge] += large && clip_upper;
    p.count[kClipLowerAdvLarge] += large && clip_lower;
}

__device__ __forceinline__ void load4(const float* p, bool vector, int n, float (&out)[4]) {
    if (vector) {
        const float4 v = *reinterpret_cast<const float4*>(p);
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) out[j] = j < n ? p[j] : 0.0f;
    }
}

__device__ __forceinline__ void store4(float* p, bool vector, int n, const float (&v)[4]) {
    if (vector) {
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
#pragma unroll
        for (int j = 0; j < 4; ++j)
            if (j < n) p[j] = v[j];
    }
}

__global__ void __launch_bounds__(kThreads) policy_loss_tokens(LossArgs a) {
    const bool kl_on = a.cfg.kl_mode != VLMRL_KL_NONE;
    Partial p;
    zero(p);
    RowContext r;
    r.row = -1;
    const int64_t chunk_begin = static_cast<int64_t>(blockIdx.x) * kChunk;
    for (int g = 0; g < kGroupsPerThread; ++g) {
        const int64_t first = chunk_begin + (static_cast<int64_t>(g) * kThreads + threadIdx.x) * kTokensPerGroup;
        if (first >= a.n_tokens) break;
        const int n = static_cast<int>(min(static_cast<int64_t>(kTokensPerGroup), a.n_tokens - first));
        const bool vector = a.vector_ok && n == kTokensPerGroup;

        float logp[4], old[4], adv[4], ref[4], entropy[4];
        bool in_mask[4];
        load4(a.logp + first, vector, n, logp);
        load4(a.old + first, vector, n, old);
        if (a.adv_per_token) load4(a.adv + first, vector, n, adv);
        if (kl_on) load4(a.ref + first, vector, n, ref);
        if (a.entropy != nullptr) load4(a.entropy + first, vector, n, entropy);
        if (vector) {
            const uchar4 m = *reinterpret_cast<const uchar4*>(a.mask + first);
            in_mask[0] = m.x != 0;
            in_mask[1] = m.y != 0;
            in_mask[2] = m.z != 0;
            in_mask[3] = m.w != 0;
        } else {
#pragma unroll
            for (int j = 0; j < 4; ++j) in_mask[j] = j < n && a.mask[first + j] != 0;
        }

        int64_t row = first / a.row_len;
        int64_t col = first - row * a.row_len;
        float grad[4], grad_entropy[4];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            if (j < n) {
                if (row != r.row) r = load_row(a, row);
                Token t;
                t.logp = logp[j];
                t.old = old[j];
                t.adv = a.adv_per_token ? adv[j] : r.adv;
                t.ref = kl_on ? ref[j] : 0.0f;
                t.entropy = a.entropy != nullptr ? entropy[j] : 0.0f;
                t.in_mask = in_mask[j];
                process_token(a, r, t, first + j, p, &grad[j], &grad_entropy[j]);
                if (++col == a.row_len) {
                    col = 0;
                    ++row;
                }
            } else {
                grad[j] = 0.0f;
                grad_entropy[j] = 0.0f;
            }
        }
        store4(a.grad_logp + first, vector, n, grad);
        if (a.entropy != nullptr && a.grad_entropy != nullptr) store4(a.grad_entropy + first, vector, n, grad_entropy);
    }
    p = block_reduce(p);
    if (threadIdx.x == 0) a.partials[blockIdx.x] = p;
}

/* ---- kernel 3: the partials, in a fixed order ---- */

__global__ void __launch_bounds__(kThreads) reduce_partials(const Partial* __restrict__ partials, int64_t n,
                                                            Partial* __restrict__ total) {
    Partial p;
    zero(p);
    for (int64_t i = threadIdx.x; i < n; i += kThreads) add(p, partials[i]);
    p = block_reduce(p);
    if (threadIdx.x == 0) *total = p;
}

/* ---- host side ---- */

constexpr const char* kFn = "vlmrl_policy_loss_cuda";

bool finite_positive(double x) { return std::isfinite(x) && x > 0.0; }

void clear_result(vlmrl_policy_loss_result* result) {
    *result = vlmrl_policy_loss_result{};
    result->first_nonfinite = -1;
    result->first_nonfinite_input = -1;
}

void store_result(const Partial& total, const vlmrl_policy_loss_config& cfg, vlmrl_policy_loss_result* result) {
    const bool kl_on = cfg.kl_mode != VLMRL_KL_NONE;
    result->pg_loss = total.sum[kPgLoss];
    result->kl_loss = total.sum[kKlLoss];
    result->entropy_loss = total.sum[kEntropyLoss];
    const double kl_part = kl_on ? static_cast<double>(cfg.kl_beta) * total.sum[kKlLoss] : 0.0;
    result->loss = total.sum[kPgLoss] + kl_part - static_cast<double>(cfg.entropy_coef) * total.sum[kEntropyLoss];
    result->n_valid = total.count[kValid];
    result->n_clip_upper = total.count[kClipUpper];
    result->n_clip_lower = total.count[kClipLower];
    result->n_dual_clip = total.count[kDualClip];
    result->n_adv_pos = total.count[kAdvPos];
    result->n_adv_neg = total.count[kAdvNeg];
    result->n_adv_pos_large = total.count[kAdvPosLarge];
    result->n_adv_neg_large = total.count[kAdvNegLarge];
    result->n_clip_upper_adv_large = total.count[kClipUpperAdvLarge];
    result->n_clip_lower_adv_large = total.count[kClipLowerAdvLarge];
    result->sum_ppo_kl = total.sum[kPpoKl];
    result->sum_kl = total.sum[kSumKl];
    result->sum_eps_high = total.sum[kEpsHigh];
    result->sum_ratio = total.sum[kRatio];
    result->sum_entropy = total.sum[kEntropy];
    result->nonfinite_count = total.count[kNonfinite];
    if (total.first_bad != kNoBadToken) {
        result->first_nonfinite = total.first_bad / 8;
        result->first_nonfinite_input = static_cast<int32_t>(total.first_bad % 8);
    }
}

bool all_aligned16(std::initializer_list<const void*> pointers) {
    for (const void* p : pointers)
        if (p != nullptr && !vlmrl_cuda::is_aligned(p, 16)) return false;
    return true;
}

}  // namespace

extern "C" int vlmrl_policy_loss_cuda(const vlmrl_policy_loss_config* cfg, const float* logp,
                                      const float* old, const float* adv, const uint8_t* mask,
                                      const float* ref, const float* kl_weight, const float* entropy,
                                      float* grad_logp, float* grad_entropy,
                                      vlmrl_policy_loss_result* result, void* stream_ptr) {
    vlmrl_clear_error();
    if (cfg == nullptr || result == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "%s: cfg and result must not be NULL", kFn);
    clear_result(result);
    // Any finite clamp is accepted here; only the CPU kernel's fast exp needs them capped.
    int status = vlmrl_validate_policy_loss_config(cfg, kFn, INFINITY);
    if (status != VLMRL_OK) return status;

    const int64_t n_tokens = cfg->n_rows * cfg->row_len;
    if (n_tokens == 0) return VLMRL_OK;

    const bool kl_on = cfg->kl_mode != VLMRL_KL_NONE;
    if ((status = vlmrl_validate_policy_loss_pointers(cfg, logp, old, adv, mask, ref, entropy, grad_logp, kFn)) !=
        VLMRL_OK)
        return status;

    const int64_t n_blocks = (n_tokens + kChunk - 1) / kChunk;
    const bool needs_row_counts = cfg->agg_mode == VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN ||
                                  (kl_on && cfg->kl_agg_mode == VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN);
    const int64_t chunks_per_row = (cfg->row_len + kCountChunk - 1) / kCountChunk;
    const int64_t n_count_items = needs_row_counts ? cfg->n_rows * chunks_per_row : 0;
    if (n_blocks > INT32_MAX || n_count_items > INT32_MAX)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: %" PRId64 " tokens in %" PRId64 " rows exceed one launch",
                               kFn, n_tokens, cfg->n_rows);

    // Workspace: [row counts][per-block partials][total].
    const size_t counts_bytes = vlmrl_cuda::align_up(static_cast<size_t>(n_count_items) * sizeof(int64_t));
    const size_t partials_bytes = vlmrl_cuda::align_up(static_cast<size_t>(n_blocks) * sizeof(Partial));
    cudaStream_t stream = vlmrl_cuda::as_stream(stream_ptr);
    vlmrl_cuda::StreamScratch workspace(stream);
    if ((status = workspace.allocate(counts_bytes + partials_bytes + sizeof(Partial))) != VLMRL_OK) return status;
    int64_t* row_counts = needs_row_counts ? workspace.at<int64_t>(0) : nullptr;
    Partial* partials = workspace.at<Partial>(counts_bytes);
    Partial* total = workspace.at<Partial>(counts_bytes + partials_bytes);

    if (needs_row_counts) {
        count_row_valid<<<static_cast<unsigned>(n_count_items), kThreads, 0, stream>>>(mask, cfg->row_len,
                                                                                      chunks_per_row, row_counts);
        if ((status = vlmrl_cuda::check_launch("count_row_valid")) != VLMRL_OK) return status;
    }

    LossArgs args;
    args.logp = logp;
    args.old = old;
    args.adv = adv;
    args.mask = mask;
    args.ref = kl_on ? ref : nullptr;
    args.kl_weight = kl_on ? kl_weight : nullptr;
    args.entropy = entropy;
    args.grad_logp = grad_logp;
    args.grad_entropy = grad_entropy;
    args.row_counts = row_counts;
    args.count_chunks_per_row = chunks_per_row;
    args.n_rows = cfg->n_rows;
    args.row_len = cfg->row_len;
    args.n_tokens = n_tokens;
    args.adv_per_token = cfg->adv_per_token != 0;
    args.vector_ok = all_aligned16({logp, old, args.adv_per_token ? adv : nullptr, args.ref, entropy, grad_logp,
                                    entropy != nullptr ? grad_entropy : nullptr}) &&
                     vlmrl_cuda::is_aligned(mask, 4);
    args.cfg = *cfg;
    // Denominators are only checked when there are valid tokens (after the kernel has
    // counted them, below); until then an invalid one must not poison the arithmetic.
    if (!finite_positive(args.cfg.denom)) args.cfg.denom = 1.0;
    if (!finite_positive(args.cfg.kl_denom)) args.cfg.kl_denom = 1.0;
    args.partials = partials;
    policy_loss_tokens<<<static_cast<unsigned>(n_blocks), kThreads, 0, stream>>>(args);
    if ((status = vlmrl_cuda::check_launch("policy_loss_tokens")) != VLMRL_OK) return status;
    reduce_partials<<<1, kThreads, 0, stream>>>(partials, n_blocks, total);
    if ((status = vlmrl_cuda::check_launch("reduce_partials")) != VLMRL_OK) return status;
    if (entropy == nullptr && grad_entropy != nullptr) {
        // No entropy input: no entropy term, so its gradient is 0 everywhere.
        status = vlmrl_cuda::check(cudaMemsetAsync(grad_entropy, 0, static_cast<size_t>(n_tokens) * sizeof(float),
                                                   stream),
                                   "cudaMemsetAsync (grad_entropy)");
        if (status != VLMRL_OK) return status;
    }

    Partial host_total;
    if ((status = vlmrl_cuda::check(cudaMemcpyAsync(&host_total, total, sizeof host_total, cudaMemcpyDeviceToHost,
                                                    stream),
                                    "cudaMemcpyAsync (policy loss sums)")) != VLMRL_OK)
        return status;
    if ((status = vlmrl_cuda::check(cudaStreamSynchronize(stream), "policy loss kernels")) != VLMRL_OK)
        return status;

    const int64_t total_valid = host_total.count[kValid] + host_total.count[kNonfinite];
    if ((status = vlmrl_validate_policy_loss_denoms(cfg, total_valid, kFn)) != VLMRL_OK) return status;
    store_result(host_total, *cfg, result);
    return VLMRL_OK;
}
