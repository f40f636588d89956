/*
 * Fused clipped policy loss, forward and backward in one pass, CPU (OpenMP).
 * The formulas are in vlmrl/policy_loss.h and docs/algorithms.md.
 *
 * Layout of the work, chosen for determinism and bandwidth:
 *  1. A cheap pass over the mask counts L_i per response and turns the caller's
 *     denominators into per-response aggregation weights ([B] doubles).
 *  2. The flat token range is cut into fixed chunks of kChunk tokens (independent
 *     of the thread count); each chunk is split at row boundaries into segments so
 *     per-response values (weights, lambda, a per-response advantage) are loop
 *     constants, and each segment is one branch-free, vectorised loop specialised
 *     (templates) on the options that change which inputs exist.
 *  3. Chunk partial sums are doubles, reduced serially in chunk order: the results
 *     are bitwise identical for any OMP_NUM_THREADS.
 */
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu_math.h"
#include "internal.h"
#include "validate.h"
#include "vlmrl/policy_loss.h"

using vlmrl::cpu::clamp_f;
using vlmrl::cpu::fast_exp_in_range;
using vlmrl::cpu::is_finite;
using vlmrl::cpu::kFastExpMax;
using vlmrl::cpu::min_f;
using vlmrl::cpu::normal_cdf;

namespace {

/* Largest log-ratio / KL clamp accepted: e^80 is finite in float, so the clamped
 * exponentials never overflow and need no range handling. */
constexpr float kMaxExpClamp = 80.0f;
static_assert(kMaxExpClamp < kFastExpMax, "the clamp must keep fast_exp_in_range in range");

/* Tokens per chunk: large enough to amortise the per-chunk overhead, small enough
 * to balance 4M tokens over many threads. Never depends on the thread count. */
constexpr int64_t kChunk = 8192;

/* How eps_high is obtained for a token (only AAAC with a per-token advantage needs
 * it per token; otherwise it is one value per response). */
enum EpsHighKind { kEpsPerRow = 0, kEpsAaacMinMax = 1, kEpsAaacZscore = 2 };

/* Which entropy arrays exist. */
enum EntropyKind { kNoEntropy = 0, kEntropyIn = 1, kEntropyInAndGrad = 2 };

/* Everything a segment loop reads, resolved once per call. */
struct Inputs {
    const vlmrl_policy_loss_config* cfg;
    const float* logp;
    const float* old;
    const float* adv;
    const uint8_t* mask;
    const float* ref;
    const float* kl_weight;
    const float* entropy;
    float* grad_logp;
    float* grad_entropy;
    const double* pg_weight;  // [B] aggregation weight of the policy and entropy terms
    const double* kl_weight_agg;  // [B] aggregation weight of the KL term
};

/* Sums over one chunk (or, after the serial reduction, the whole call). */
struct Partial {
    double pg_loss = 0, kl_loss = 0, entropy_loss = 0;
    double sum_ppo_kl = 0, sum_kl = 0, sum_eps_high = 0, sum_ratio = 0, sum_entropy = 0;
    int64_t n_valid = 0, n_clip_upper = 0, n_clip_lower = 0, n_dual_clip = 0;
    int64_t n_adv_pos = 0, n_adv_neg = 0, n_adv_pos_large = 0, n_adv_neg_large = 0;
    int64_t n_clip_upper_adv_large = 0, n_clip_lower_adv_large = 0;
    int64_t nonfinite_count = 0;
    int64_t first_nonfinite = -1;
    int32_t first_nonfinite_input = -1;
};

/* eps_high of AAAC for advantage a (docs/algorithms.md "AAAC"); no clamp of the normalised
 * advantage, which lies in [0, 1] when the statistics cover the token. */
inline float aaac_eps_high(float a, int32_t norm, float stat_a, float stat_b, float eps_min,
                           float eps_max) {
    float normalized;
    if (norm == VLMRL_AAAC_MINMAX) {
        const float range = stat_b - stat_a;
        normalized = range > 0.0f ? (a - stat_a) / range : 0.5f;
    } else {
        normalized = stat_b > 0.0f ? normal_cdf((a - stat_a) / stat_b) : 0.5f;
    }
    return eps_min + (eps_max - eps_min) * normalized;
}

inline float row_eps_high(const vlmrl_policy_loss_config& cfg, float a) {
    if (cfg.clip_mode != VLMRL_CLIP_AAAC) return cfg.eps_high;
    return aaac_eps_high(a, cfg.aaac_norm, cfg.adv_stat_a, cfg.adv_stat_b, cfg.aaac_eps_min,
                         cfg.aaac_eps_max);
}

/* The first non-finite input of a valid token, as a VLMRL_INPUT_* id, or -1 (scalar
 * re-check, only run on chunks whose vector loop counted a non-finite token). */
int32_t first_bad_input(const Inputs& in, int64_t row, int64_t k) {
    const vlmrl_policy_loss_config& cfg = *in.cfg;
    const bool kl_on = cfg.kl_mode != VLMRL_KL_NONE;
    if (!is_finite(in.logp[k])) return VLMRL_INPUT_LOGP;
    if (!is_finite(in.old[k])) return VLMRL_INPUT_OLD;
    if (!is_finite(in.adv[cfg.adv_per_token ? k : row])) return VLMRL_INPUT_ADV;
    if (kl_on && !is_finite(in.ref[k])) return VLMRL_INPUT_REF;
    if (in.entropy != nullptr && !is_finite(in.entropy[k])) return VLMRL_INPUT_ENTROPY;
    if (kl_on && in.kl_weight != nullptr && !is_finite(in.kl_weight[row])) return VLMRL_INPUT_KL_WEIGHT;
    return -1;
}

/* Tokens per inner vector loop: bounds its float token counts (exact below 2^24) and
 * the stack buffer holding its mask as floats. */
constexpr int64_t kSubBlock = 512;

/* A response whose per-response input (adv or kl_weight) is non-finite: no valid token. */
void run_bad_row(const Inputs& in, int64_t row, int64_t begin, int64_t end, Partial& out) {
    int64_t n_bad = 0;
    for (int64_t k = begin; k < end; ++k) {
        n_bad += in.mask[k] != 0 ? 1 : 0;
        in.grad_logp[k] = 0.0f;
        if (in.grad_entropy != nullptr) in.grad_entropy[k] = 0.0f;
    }
    if (n_bad > 0 && out.nonfinite_count == 0) {
        for (int64_t k = begin; k < end; ++k) {
            if (in.mask[k] != 0) {
                out.first_nonfinite = k;
                out.first_nonfinite_input = first_bad_input(in, row, k);
                break;
            }
        }
    }
    out.nonfinite_count += n_bad;
}

/*
 * The surrogate in the form the loop uses. With lo_A, hi_A below, for every sign of A
 *   max(-A rho, -A clip(rho, 1 - eps_low, 1 + eps_high)) [then min(., -A c) for dual clip]
 *     = -A clamp(rho, lo_A, hi_A)
 * and its gradient -A rho flows exactly where lo_A <= rho <= hi_A:
 *   A > 0: lo = -Inf,         hi = 1 + eps_high   (rho > hi: upper clip)
 *   A < 0: lo = 1 - eps_low,  hi = c or +Inf      (rho < lo: lower clip; rho > hi: dual clip)
 *   A = 0: lo = -Inf,         hi = +Inf           (loss and gradient 0 anyway)
 */
struct ClipRange {
    float lo, hi;
};

inline ClipRange clip_range(float a, float eps_high, float lower_bound, float dual_threshold) {
    const float lo = a < 0.0f ? lower_bound : -INFINITY;
    const float hi = a > 0.0f ? 1.0f + eps_high : (a < 0.0f ? dual_threshold : INFINITY);
    return {lo, hi};
}

/*
 * Tokens [begin, end) of response `row`: writes grad_logp (and grad_entropy) and adds
 * this segment's sums to `out`. Branch-free per token: each condition is one float
 * compare feeding a select (GCC vectorises that well, unlike bools combined across lane
 * widths), and values of masked or non-finite tokens are removed by selects, never by a
 * product (0 * NaN = NaN).
 */
template <bool kAdvPerToken, int kEps, int kKl, int kEntropy>
void run_segment(const Inputs& in, int64_t row, int64_t begin, int64_t end, Partial& out) {
    const vlmrl_policy_loss_config& cfg = *in.cfg;
    const float* __restrict logp = in.logp;
    const float* __restrict old = in.old;
    const float* __restrict adv = in.adv;
    const uint8_t* __restrict mask = in.mask;
    const float* __restrict ref = in.ref;
    const float* __restrict entropy = in.entropy;
    float* __restrict grad_logp = in.grad_logp;
    float* __restrict grad_entropy = in.grad_entropy;

    // Per-response constants.
    const float row_adv = kAdvPerToken ? 0.0f : adv[row];
    const float lambda = (kKl != VLMRL_KL_NONE && in.kl_weight != nullptr) ? in.kl_weight[row] : 1.0f;
    if (!(kAdvPerToken || is_finite(row_adv)) || !is_finite(lambda)) {
        run_bad_row(in, row, begin, end, out);
        return;
    }
    const double pg_w = in.pg_weight[row];
    const double kl_w = in.kl_weight_agg[row];
    const float pg_wf = static_cast<float>(pg_w);
    // kl_beta is only validated when the KL term is on: never multiply it otherwise (NaN * 0 = NaN).
    const float kl_grad_scale = kKl != VLMRL_KL_NONE
        ? static_cast<float>(static_cast<double>(cfg.kl_beta) * kl_w * lambda) : 0.0f;
    const float entropy_grad = static_cast<float>(-static_cast<double>(cfg.entropy_coef) * pg_w);
    const float lr_clamp = cfg.logratio_clamp;
    const float kl_clamp = cfg.kl_clamp;
    const float k3_clamp = cfg.k3_clamp;
    const float lower_bound = 1.0f - cfg.eps_low;
    const float dual_c = cfg.dual_clip_c;
    const float dual_threshold = cfg.dual_clip ? dual_c : INFINITY;
    const float aaac_a = cfg.adv_stat_a, aaac_b = cfg.adv_stat_b;
    const float aaac_min = cfg.aaac_eps_min, aaac_max = cfg.aaac_eps_max;
    const float row_eps = kAdvPerToken ? cfg.eps_high : row_eps_high(cfg, row_adv);
    const ClipRange row_range = clip_range(row_adv, row_eps, lower_bound, dual_threshold);
    const float size_split = cfg.adv_size_split;

    for (int64_t block = begin; block < end; block += kSubBlock) {
        const int64_t block_end = end - block < kSubBlock ? end : block + kSubBlock;
        // The mask as floats first: with only 32- and 64-bit lanes in the main loop its
        // vector width is 16 floats (AVX-512) instead of 64 bytes, which avoids register spills.
        alignas(64) float mask_f[kSubBlock];
#pragma omp simd
        for (int64_t k = block; k < block_end; ++k) mask_f[k - block] = mask[k] != 0 ? 1.0f : 0.0f;

        // The loss terms that depend on logp are summed in double, so two calls differing in
        // one token differ by exactly that token's term (finite differences stay clean).
        // Metric sums are float over <= kSubBlock tokens (counts exact), then double.
        double s_pg = 0, s_kl = 0;
        float s_entropy = 0, s_ppo_kl = 0, s_eps = 0, s_ratio = 0;
        float n_valid = 0, n_above = 0, n_above_neg = 0, n_below = 0, n_bad = 0;
        // Per-token advantages: each token's state (0 not valid, 1 valid, 2 above its upper bound, 3
        // below its lower bound), for the sign-and-size class counts taken in a second, short loop
        // below (more reductions in this loop stop GCC vectorising it).
        alignas(64) float state_f[kAdvPerToken ? kSubBlock : 1];

#pragma omp simd reduction(+ : s_pg, s_kl, s_entropy, s_ppo_kl, s_eps, s_ratio, n_valid, n_above, n_above_neg, \
                               n_below, n_bad)
        for (int64_t k = block; k < block_end; ++k) {
            const float lp = logp[k];
            const float lo = old[k];
            const float a = kAdvPerToken ? adv[k] : row_adv;
            const float r = kKl != VLMRL_KL_NONE ? ref[k] : 0.0f;
            const float h = kEntropy != kNoEntropy ? entropy[k] : 0.0f;
            // x - x is 0 for finite x and NaN for NaN or +-Inf: one compare checks every input.
            float nonfinite_probe = (lp - lp) + (lo - lo);
            if (kAdvPerToken) nonfinite_probe += a - a;
            if (kKl != VLMRL_KL_NONE) nonfinite_probe += r - r;
            if (kEntropy != kNoEntropy) nonfinite_probe += h - h;
            const float in_mask = mask_f[k - block];
            const float valid = nonfinite_probe == 0.0f ? in_mask : 0.0f;
            n_bad += in_mask - valid;

            // Ratio with the log-ratio clamp (gradient 0 outside it, as autograd of clamp).
            const float raw_lr = lp - lo;
            const float lr = clamp_f(raw_lr, -lr_clamp, lr_clamp);
            const float rho = fast_exp_in_range(lr);  // |lr| <= logratio_clamp <= kMaxExpClamp

            float eps_high = row_eps;
            if (kEps == kEpsAaacMinMax)
                eps_high = aaac_eps_high(a, VLMRL_AAAC_MINMAX, aaac_a, aaac_b, aaac_min, aaac_max);
            if (kEps == kEpsAaacZscore)
                eps_high = aaac_eps_high(a, VLMRL_AAAC_ZSCORE_CDF, aaac_a, aaac_b, aaac_min, aaac_max);
            const ClipRange range = kAdvPerToken ? clip_range(a, eps_high, lower_bound, dual_threshold) : row_range;

            // Clipped surrogate; its gradient flows where neither clamp is active.
            const float rho_clamped = clamp_f(rho, range.lo, range.hi);
            const float pg = -a * rho_clamped;
            float d_pg = lr == raw_lr ? -a * rho : 0.0f;
            d_pg = rho_clamped == rho ? d_pg : 0.0f;

            // KL estimator and its derivative w.r.t. logp (0 where delta is clamped).
            float kl = 0.0f, d_kl = 0.0f;
            if (kKl != VLMRL_KL_NONE) {
                const float raw_delta = r - lp;
                const float delta = clamp_f(raw_delta, -kl_clamp, kl_clamp);
                if (kKl == VLMRL_KL_K1) {
                    kl = -delta;
                    d_kl = 1.0f;
                } else if (kKl == VLMRL_KL_K2) {
                    kl = 0.5f * delta * delta;
                    d_kl = -delta;
                } else {
                    const float e = fast_exp_in_range(delta);  // |delta| <= kl_clamp <= kMaxExpClamp
                    const float raw_k3 = e - delta - 1.0f;  // >= 0
                    kl = min_f(raw_k3, k3_clamp);
                    d_kl = kl == raw_k3 ? 1.0f - e : 0.0f;
                }
                d_kl = delta == raw_delta ? d_kl : 0.0f;
            }

            const bool use = valid > 0.0f;
            grad_logp[k] = use ? pg_wf * d_pg + kl_grad_scale * d_kl : 0.0f;
            if (kEntropy == kEntropyInAndGrad) grad_entropy[k] = use ? entropy_grad : 0.0f;

            s_pg += use ? pg : 0.0f;
            s_ratio += use ? rho : 0.0f;
            s_ppo_kl += use ? lo - lp : 0.0f;
            if (kKl != VLMRL_KL_NONE) s_kl += use ? kl : 0.0f;
            if (kEntropy != kNoEntropy) s_entropy += use ? h : 0.0f;
            if (kEps != kEpsPerRow) s_eps += use ? eps_high : 0.0f;  // else row_eps * n_valid below
            n_valid += valid;
            n_below += rho < range.lo ? valid : 0.0f;  // only A < 0 has a finite lower bound
            n_above += rho > range.hi ? valid : 0.0f;
            if (kAdvPerToken) {
                n_above_neg += (rho > range.hi) & (a < 0.0f) ? valid : 0.0f;
                const float clip_state = rho > range.hi ? 2.0f : (rho < range.lo ? 3.0f : 1.0f);
                state_f[k - block] = valid > 0.0f ? clip_state : 0.0f;
            }
        }
        float n_pos = 0, n_neg = 0, n_pos_large = 0, n_neg_large = 0, n_above_large = 0, n_below_large = 0;
        if (kAdvPerToken) {
#pragma omp simd reduction(+ : n_pos, n_neg, n_pos_large, n_neg_large, n_above_large, n_below_large)
            for (int64_t k = block; k < block_end; ++k) {
                const float a = adv[k];
                const float state = state_f[k - block];
                const float valid = state > 0.0f ? 1.0f : 0.0f;
                const float valid_large = (a >= size_split) | (a <= -size_split) ? valid : 0.0f;
                n_pos += a > 0.0f ? valid : 0.0f;
                n_neg += a < 0.0f ? valid : 0.0f;
                n_pos_large += a > 0.0f ? valid_large : 0.0f;
                n_neg_large += a < 0.0f ? valid_large : 0.0f;
                // "above" of an A < 0 token is the dual clip, not the upper clip
                n_above_large += (state == 2.0f) & (a > 0.0f) ? valid_large : 0.0f;
                n_below_large += state == 3.0f ? valid_large : 0.0f;
            }
        } else {
            const bool large = std::fabs(row_adv) >= size_split;
            n_pos = row_adv > 0.0f ? n_valid : 0.0f;
            n_neg = row_adv < 0.0f ? n_valid : 0.0f;
            n_pos_large = large ? n_pos : 0.0f;
            n_neg_large = large ? n_neg : 0.0f;
            n_above_large = large && row_adv > 0.0f ? n_above : 0.0f;
            n_below_large = large ? n_below : 0.0f;
        }

        // "above" is the upper clip for A > 0 and the dual clip for A < 0.
        const float above_neg = kAdvPerToken ? n_above_neg : (row_adv < 0.0f ? n_above : 0.0f);
        out.pg_loss += pg_w * s_pg;
        out.kl_loss += kl_w * lambda * s_kl;
        out.entropy_loss += pg_w * s_entropy;
        out.sum_kl += static_cast<double>(lambda) * s_kl;
        out.sum_entropy += s_entropy;
        out.sum_ppo_kl += s_ppo_kl;
        out.sum_eps_high += kEps == kEpsPerRow ? static_cast<double>(row_eps) * n_valid : s_eps;
        out.sum_ratio += s_ratio;
        out.n_valid += static_cast<int64_t>(n_valid);
        out.n_clip_upper += static_cast<int64_t>(n_above - above_neg);
        out.n_clip_lower += static_cast<int64_t>(n_below);
        out.n_dual_clip += static_cast<int64_t>(above_neg);
        out.n_adv_pos += static_cast<int64_t>(n_pos);
        out.n_adv_neg += static_cast<int64_t>(n_neg);
        out.n_adv_pos_large += static_cast<int64_t>(n_pos_large);
        out.n_adv_neg_large += static_cast<int64_t>(n_neg_large);
        out.n_clip_upper_adv_large += static_cast<int64_t>(n_above_large);
        out.n_clip_lower_adv_large += static_cast<int64_t>(n_below_large);
        if (n_bad > 0.0f) {
            if (out.nonfinite_count == 0) {
                for (int64_t k = block; k < block_end; ++k) {
                    if (mask[k] == 0) continue;
                    const int32_t bad = first_bad_input(in, row, k);
                    if (bad >= 0) {
                        out.first_nonfinite = k;
                        out.first_nonfinite_input = bad;
                        break;
                    }
                }
            }
            out.nonfinite_count += static_cast<int64_t>(n_bad);
        }
    }
}

using SegmentFn = void (*)(const Inputs&, int64_t, int64_t, int64_t, Partial&);

template <bool kAdvPerToken, int kEps, int kKl>
SegmentFn pick_entropy(int entropy_kind) {
    switch (entropy_kind) {
        case kNoEntropy: return &run_segment<kAdvPerToken, kEps, kKl, kNoEntropy>;
        case kEntropyIn: return &run_segment<kAdvPerToken, kEps, kKl, kEntropyIn>;
        default: return &run_segment<kAdvPerToken, kEps, kKl, kEntropyInAndGrad>;
    }
}

template <bool kAdvPerToken, int kEps>
SegmentFn pick_kl(int kl_mode, int entropy_kind) {
    switch (kl_mode) {
        case VLMRL_KL_NONE: return pick_entropy<kAdvPerToken, kEps, VLMRL_KL_NONE>(entropy_kind);
        case VLMRL_KL_K1: return pick_entropy<kAdvPerToken, kEps, VLMRL_KL_K1>(entropy_kind);
        case VLMRL_KL_K2: return pick_entropy<kAdvPerToken, kEps, VLMRL_KL_K2>(entropy_kind);
        default: return pick_entropy<kAdvPerToken, kEps, VLMRL_KL_K3>(entropy_kind);
    }
}

SegmentFn pick_segment_fn(const vlmrl_policy_loss_config& cfg, int entropy_kind) {
    if (!cfg.adv_per_token) return pick_kl<false, kEpsPerRow>(cfg.kl_mode, entropy_kind);
    if (cfg.clip_mode != VLMRL_CLIP_AAAC) return pick_kl<true, kEpsPerRow>(cfg.kl_mode, entropy_kind);
    if (cfg.aaac_norm == VLMRL_AAAC_MINMAX) return pick_kl<true, kEpsAaacMinMax>(cfg.kl_mode, entropy_kind);
    return pick_kl<true, kEpsAaacZscore>(cfg.kl_mode, entropy_kind);
}

/* Per-response aggregation weight: 1 / denom, or 1 / (denom * L_i) for SEQ_MEAN_TOKEN_MEAN. */
double aggregation_weight(int32_t agg_mode, double denom, int64_t row_valid) {
    if (agg_mode == VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN)
        return row_valid > 0 ? 1.0 / (denom * static_cast<double>(row_valid)) : 0.0;
    return 1.0 / denom;
}

void store_result(const Partial& total, vlmrl_policy_loss_result* result, const vlmrl_policy_loss_config& cfg) {
    result->pg_loss = total.pg_loss;
    result->kl_loss = total.kl_loss;
    result->entropy_loss = total.entropy_loss;
    const double kl_part = cfg.kl_mode != VLMRL_KL_NONE ? static_cast<double>(cfg.kl_beta) * total.kl_loss : 0.0;
    result->loss = total.pg_loss + kl_part - static_cast<double>(cfg.entropy_coef) * total.entropy_loss;
    result->n_valid = total.n_valid;
    result->n_clip_upper = total.n_clip_upper;
    result->n_clip_lower = total.n_clip_lower;
    result->n_dual_clip = total.n_dual_clip;
    result->n_adv_pos = total.n_adv_pos;
    result->n_adv_neg = total.n_adv_neg;
    result->n_adv_pos_large = total.n_adv_pos_large;
    result->n_adv_neg_large = total.n_adv_neg_large;
    result->n_clip_upper_adv_large = total.n_clip_upper_adv_large;
    result->n_clip_lower_adv_large = total.n_clip_lower_adv_large;
    result->sum_ppo_kl = total.sum_ppo_kl;
    result->sum_kl = total.sum_kl;
    result->sum_eps_high = total.sum_eps_high;
    result->sum_ratio = total.sum_ratio;
    result->sum_entropy = total.sum_entropy;
    result->nonfinite_count = total.nonfinite_count;
    result->first_nonfinite = total.first_nonfinite;
    result->first_nonfinite_input = total.first_nonfinite_input;
}

}  // namespace

extern "C" int vlmrl_policy_loss_cpu(const vlmrl_policy_loss_config* cfg, const float* logp,
                                     const float* old, const float* adv, const uint8_t* mask,
                                     const float* ref, const float* kl_weight, const float* entropy,
                                     float* grad_logp, float* grad_entropy,
                                     vlmrl_policy_loss_result* result) {
    static const char* const fn = "vlmrl_policy_loss_cpu";
    vlmrl_clear_error();
    if (cfg == nullptr || result == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "%s: cfg and result must not be NULL", fn);
    store_result(Partial{}, result, *cfg);
    int status = vlmrl_validate_policy_loss_config(cfg, fn, kMaxExpClamp);
    if (status != VLMRL_OK) return status;

    const int64_t n_rows = cfg->n_rows, row_len = cfg->row_len;
    const int64_t n_tokens = n_rows * row_len;
    if (n_tokens == 0) return VLMRL_OK;

    const bool kl_on = cfg->kl_mode != VLMRL_KL_NONE;
    if ((status = vlmrl_validate_policy_loss_pointers(cfg, logp, old, adv, mask, ref, entropy, grad_logp, fn)) !=
        VLMRL_OK)
        return status;

    // Pass 1: L_i per response, then the per-response aggregation weights.
    std::vector<int64_t> row_valid(static_cast<size_t>(n_rows));
    int64_t total_valid = 0;
#pragma omp parallel for schedule(static) reduction(+ : total_valid)
    for (int64_t i = 0; i < n_rows; ++i) {
        const uint8_t* row_mask = mask + i * row_len;
        int64_t count = 0;
#pragma omp simd reduction(+ : count)
        for (int64_t t = 0; t < row_len; ++t) count += row_mask[t] != 0 ? 1 : 0;
        row_valid[static_cast<size_t>(i)] = count;
        total_valid += count;
    }
    if ((status = vlmrl_validate_policy_loss_denoms(cfg, total_valid, fn)) != VLMRL_OK) return status;
    std::vector<double> pg_weight(static_cast<size_t>(n_rows)), kl_weight_agg(static_cast<size_t>(n_rows));
    for (int64_t i = 0; i < n_rows; ++i) {
        const int64_t count = row_valid[static_cast<size_t>(i)];
        pg_weight[static_cast<size_t>(i)] = total_valid > 0 ? aggregation_weight(cfg->agg_mode, cfg->denom, count) : 0.0;
        kl_weight_agg[static_cast<size_t>(i)] =
            (total_valid > 0 && kl_on) ? aggregation_weight(cfg->kl_agg_mode, cfg->kl_denom, count) : 0.0;
    }

    const int entropy_kind = entropy == nullptr ? kNoEntropy : (grad_entropy == nullptr ? kEntropyIn : kEntropyInAndGrad);
    const Inputs in{cfg, logp, old, adv, mask, kl_on ? ref : nullptr, kl_weight, entropy,
                    grad_logp, grad_entropy, pg_weight.data(), kl_weight_agg.data()};
    const SegmentFn segment = pick_segment_fn(*cfg, entropy_kind);

    // Pass 2: fixed chunks, each split at row boundaries into segments.
    const int64_t n_chunks = (n_tokens + kChunk - 1) / kChunk;
    std::vector<Partial> partials(static_cast<size_t>(n_chunks));
    // Dynamic scheduling copes with busy cores; results do not depend on it (per-chunk sums).
#pragma omp parallel for schedule(dynamic)
    for (int64_t c = 0; c < n_chunks; ++c) {
        const int64_t chunk_end = (c + 1) * kChunk < n_tokens ? (c + 1) * kChunk : n_tokens;
        Partial& partial = partials[static_cast<size_t>(c)];
        for (int64_t begin = c * kChunk; begin < chunk_end;) {
            const int64_t row = begin / row_len;
            const int64_t row_end = (row + 1) * row_len;
            const int64_t end = row_end < chunk_end ? row_end : chunk_end;
            segment(in, row, begin, end, partial);
            begin = end;
        }
    }
    if (entropy == nullptr && grad_entropy != nullptr) {
        // No entropy input: no entropy term, so its gradient is 0 everywhere.
#pragma omp parallel for simd schedule(static)
        for (int64_t k = 0; k < n_tokens; ++k) grad_entropy[k] = 0.0f;
    }

    // Serial reduction in chunk order: the same sums for every thread count.
    Partial total;
    for (const Partial& p : partials) {
        total.pg_loss += p.pg_loss;
        total.kl_loss += p.kl_loss;
        total.entropy_loss += p.entropy_loss;
        total.sum_ppo_kl += p.sum_ppo_kl;
        total.sum_kl += p.sum_kl;
        total.sum_eps_high += p.sum_eps_high;
        total.sum_ratio += p.sum_ratio;
        total.sum_entropy += p.sum_entropy;
        total.n_valid += p.n_valid;
        total.n_clip_upper += p.n_clip_upper;
        total.n_clip_lower += p.n_clip_lower;
        total.n_dual_clip += p.n_dual_clip;
        total.n_adv_pos += p.n_adv_pos;
        total.n_adv_neg += p.n_adv_neg;
        total.n_adv_pos_large += p.n_adv_pos_large;
        total.n_adv_neg_large += p.n_adv_neg_large;
        total.n_clip_upper_adv_large += p.n_clip_upper_adv_large;
        total.n_clip_lower_adv_large += p.n_clip_lower_adv_large;
        if (total.nonfinite_count == 0 && p.nonfinite_count > 0) {
            total.first_nonfinite = p.first_nonfinite;
            total.first_nonfinite_input = p.first_nonfinite_input;
        }
        total.nonfinite_count += p.nonfinite_count;
    }
    store_result(total, result, *cfg);
    return VLMRL_OK;
}
