// Fused policy loss kernel (CPU) against a per-token double-precision reference.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_support.h"
#include "vlmrl/policy_loss.h"

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

/* One micro-batch of inputs. */
struct Batch {
    int64_t rows = 0, len = 0;
    bool adv_per_token = false;
    std::vector<float> logp, old, adv, ref, kl_weight, entropy;
    std::vector<uint8_t> mask;

    int64_t tokens() const { return rows * len; }
    float adv_at(int64_t i, int64_t k) const { return adv_per_token ? adv[k] : adv[i]; }
    int64_t row_valid(int64_t i) const {
        int64_t n = 0;
        for (int64_t t = 0; t < len; ++t) n += mask[i * len + t] != 0;
        return n;
    }
};

/* Responses of random length (some empty) with a few holes; ratios spread across the clip bounds. */
Batch make_batch(uint64_t seed, int64_t rows, int64_t len, bool adv_per_token, double ratio_spread = 0.3,
                 double ref_spread = 0.5) {
    vt::Random rng(seed);
    Batch b;
    b.rows = rows;
    b.len = len;
    b.adv_per_token = adv_per_token;
    const size_t n = static_cast<size_t>(rows * len);
    b.logp.resize(n);
    b.old.resize(n);
    b.ref.resize(n);
    b.entropy.resize(n);
    b.mask.resize(n);
    b.adv.resize(adv_per_token ? n : static_cast<size_t>(rows));
    b.kl_weight.resize(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) {
        const int64_t length = rows > 1 && i % 5 == 3 ? 0 : rng.integer(1, len);
        if (!adv_per_token) b.adv[i] = static_cast<float>(rng.normal(0.0, 1.0));
        b.kl_weight[i] = static_cast<float>(rng.uniform(0.2, 1.0));
        for (int64_t t = 0; t < len; ++t) {
            const int64_t k = i * len + t;
            b.mask[k] = t < length && !rng.chance(0.05) ? 1 : 0;
            b.logp[k] = static_cast<float>(-rng.uniform(0.0, 5.0));
            b.old[k] = b.logp[k] + static_cast<float>(rng.normal(0.0, ratio_spread));
            b.ref[k] = b.logp[k] + static_cast<float>(rng.normal(0.0, ref_spread));
            b.entropy[k] = static_cast<float>(rng.uniform(0.0, 3.0));
            if (adv_per_token) b.adv[k] = static_cast<float>(rng.normal(0.0, 1.0));
        }
    }
    return b;
}

vlmrl_policy_loss_config default_config(const Batch& b) {
    vlmrl_policy_loss_config cfg;
    vlmrl_policy_loss_config_init(&cfg, b.rows, b.len);
    cfg.adv_per_token = b.adv_per_token ? 1 : 0;
    int64_t valid = 0;
    for (uint8_t m : b.mask) valid += m;
    cfg.denom = valid > 0 ? static_cast<double>(valid) : 1.0;
    cfg.kl_denom = cfg.denom;
    return cfg;
}

/* Which optional inputs a call passes. */
struct Use {
    bool kl_weight = false;
    bool entropy = false;
    bool grad_entropy = false;
};

struct Output {
    int status = -1;
    vlmrl_policy_loss_result result{};
    std::vector<float> grad_logp, grad_entropy;
};

Output run_kernel(const Batch& b, const vlmrl_policy_loss_config& cfg, Use use) {
    Output out;
    out.grad_logp.assign(static_cast<size_t>(b.tokens()), 77.0f);  // every entry must be written
    out.grad_entropy.assign(static_cast<size_t>(b.tokens()), 77.0f);
    out.status = vlmrl_policy_loss_cpu(&cfg, b.logp.data(), b.old.data(), b.adv.data(), b.mask.data(),
                                       cfg.kl_mode != VLMRL_KL_NONE ? b.ref.data() : nullptr,
                                       use.kl_weight ? b.kl_weight.data() : nullptr,
                                       use.entropy ? b.entropy.data() : nullptr, out.grad_logp.data(),
                                       use.grad_entropy ? out.grad_entropy.data() : nullptr, &out.result);
    return out;
}

struct Expected {
    double loss = 0, pg_loss = 0, kl_loss = 0, entropy_loss = 0;
    int64_t n_valid = 0, n_clip_upper = 0, n_clip_lower = 0, n_dual_clip = 0, nonfinite = 0;
    int64_t n_adv_pos = 0, n_adv_neg = 0, n_adv_pos_large = 0, n_adv_neg_large = 0;
    int64_t n_clip_upper_adv_large = 0, n_clip_lower_adv_large = 0;
    double sum_ppo_kl = 0, sum_kl = 0, sum_eps_high = 0, sum_ratio = 0, sum_entropy = 0;
    std::vector<double> grad_logp, grad_entropy;
};

double weight_of(int32_t agg_mode, double denom, int64_t row_valid) {
    if (agg_mode == VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN) return row_valid > 0 ? 1.0 / (denom * row_valid) : 0.0;
    return 1.0 / denom;
}

bool finite(double x) { return std::isfinite(x); }

/* The formulas of policy_loss.h / docs/algorithms.md, token by token, in double. */
Expected reference(const Batch& b, const vlmrl_policy_loss_config& cfg, Use use) {
    Expected e;
    e.grad_logp.assign(static_cast<size_t>(b.tokens()), 0.0);
    e.grad_entropy.assign(static_cast<size_t>(b.tokens()), 0.0);
    const bool kl_on = cfg.kl_mode != VLMRL_KL_NONE;
    for (int64_t i = 0; i < b.rows; ++i) {
        const int64_t row_valid = b.row_valid(i);
        const double w_pg = weight_of(cfg.agg_mode, cfg.denom, row_valid);
        const double w_kl = weight_of(cfg.kl_agg_mode, cfg.kl_denom, row_valid);
        const double lambda = use.kl_weight ? b.kl_weight[i] : 1.0;
        for (int64_t t = 0; t < b.len; ++t) {
            const int64_t k = i * b.len + t;
            if (!b.mask[k]) continue;
            const double lp = b.logp[k], old = b.old[k], a = b.adv_at(i, k);
            const double ref = kl_on ? b.ref[k] : 0.0, h = use.entropy ? b.entropy[k] : 0.0;
            if (!finite(lp) || !finite(old) || !finite(a) || !finite(ref) || !finite(h) ||
                (kl_on && !finite(lambda))) {
                ++e.nonfinite;
                continue;
            }
            ++e.n_valid;
            const double c = cfg.logratio_clamp;
            const double raw = lp - old;
            const double rho = std::exp(std::min(std::max(raw, -c), c));
            double eps_high = cfg.eps_high;
            if (cfg.clip_mode == VLMRL_CLIP_AAAC) {
                double at;
                if (cfg.aaac_norm == VLMRL_AAAC_MINMAX)
                    at = cfg.adv_stat_b > cfg.adv_stat_a ? (a - cfg.adv_stat_a) / (cfg.adv_stat_b - cfg.adv_stat_a) : 0.5;
                else
                    at = cfg.adv_stat_b > 0 ? 0.5 * std::erfc(-(a - cfg.adv_stat_a) / cfg.adv_stat_b / std::sqrt(2.0)) : 0.5;
                eps_high = cfg.aaac_eps_min + (cfg.aaac_eps_max - cfg.aaac_eps_min) * at;
            }
            const double lo = 1.0 - cfg.eps_low, hi = 1.0 + eps_high;
            double pg = std::max(-a * rho, -a * std::min(std::max(rho, lo), hi));
            const bool dual = cfg.dual_clip && a < 0 && rho > cfg.dual_clip_c;
            if (cfg.dual_clip && a < 0) pg = std::min(pg, -a * cfg.dual_clip_c);
            const bool upper = a > 0 && rho > hi, lower = a < 0 && rho < lo;
            const bool pg_grad = !upper && !lower && !dual && raw >= -c && raw <= c;
            const double d_pg = pg_grad ? -a * rho : 0.0;

            double kl = 0, d_kl = 0;
            if (kl_on) {
                const double raw_delta = ref - lp, kc = cfg.kl_clamp;
                const double delta = std::min(std::max(raw_delta, -kc), kc);
                const bool inside = raw_delta >= -kc && raw_delta <= kc;
                if (cfg.kl_mode == VLMRL_KL_K1) {
                    kl = -delta;
                    d_kl = inside ? 1.0 : 0.0;
                } else if (cfg.kl_mode == VLMRL_KL_K2) {
                    kl = 0.5 * delta * delta;
                    d_kl = inside ? -delta : 0.0;
                } else {
                    const double raw_k3 = std::exp(delta) - delta - 1.0;
                    kl = std::min(std::max(raw_k3, -static_cast<double>(cfg.k3_clamp)), static_cast<double>(cfg.k3_clamp));
                    d_kl = inside && std::fabs(raw_k3) <= cfg.k3_clamp ? 1.0 - std::exp(delta) : 0.0;
                }
                kl *= lambda;
                d_kl *= lambda;
            }
            e.pg_loss += w_pg * pg;
            e.kl_loss += w_kl * kl;
            e.entropy_loss += w_pg * h;
            e.grad_logp[k] = w_pg * d_pg + static_cast<double>(cfg.kl_beta) * w_kl * d_kl;
            e.grad_entropy[k] = use.entropy ? -static_cast<double>(cfg.entropy_coef) * w_pg : 0.0;
            e.n_clip_upper += upper;
            e.n_clip_lower += lower;
            e.n_dual_clip += dual;
            const bool large = std::fabs(a) >= cfg.adv_size_split;
            e.n_adv_pos += a > 0;
            e.n_adv_neg += a < 0;
            e.n_adv_pos_large += a > 0 && large;
            e.n_adv_neg_large += a < 0 && large;
            e.n_clip_upper_adv_large += upper && large;
            e.n_clip_lower_adv_large += lower && large;
            e.sum_ppo_kl += old - lp;
            e.sum_kl += kl;
            e.sum_eps_high += eps_high;
            e.sum_ratio += rho;
            e.sum_entropy += h;
        }
    }
    e.loss = e.pg_loss + (kl_on ? cfg.kl_beta * e.kl_loss : 0.0) - cfg.entropy_coef * e.entropy_loss;
    return e;
}

/* Compares every output of the kernel with the reference. */
void check_against_reference(const Batch& b, const vlmrl_policy_loss_config& cfg, Use use) {
    const Output out = run_kernel(b, cfg, use);
    const Expected e = reference(b, cfg, use);
    CHECK_EQ_INT(out.status, VLMRL_OK);
    const vlmrl_policy_loss_result& r = out.result;
    const double rtol = 2e-5;
    const double scale = 1e-6 * (std::fabs(e.pg_loss) + 1.0);
    CHECK_CLOSE(r.loss, e.loss, rtol, scale);
    CHECK_CLOSE(r.pg_loss, e.pg_loss, rtol, scale);
    CHECK_CLOSE(r.kl_loss, e.kl_loss, rtol, 1e-9);
    CHECK_CLOSE(r.entropy_loss, e.entropy_loss, rtol, 1e-9);
    CHECK_EQ_INT(r.n_valid, e.n_valid);
    CHECK_EQ_INT(r.n_clip_upper, e.n_clip_upper);
    CHECK_EQ_INT(r.n_clip_lower, e.n_clip_lower);
    CHECK_EQ_INT(r.n_dual_clip, e.n_dual_clip);
    CHECK_EQ_INT(r.n_adv_pos, e.n_adv_pos);
    CHECK_EQ_INT(r.n_adv_neg, e.n_adv_neg);
    CHECK_EQ_INT(r.n_adv_pos_large, e.n_adv_pos_large);
    CHECK_EQ_INT(r.n_adv_neg_large, e.n_adv_neg_large);
    CHECK_EQ_INT(r.n_clip_upper_adv_large, e.n_clip_upper_adv_large);
    CHECK_EQ_INT(r.n_clip_lower_adv_large, e.n_clip_lower_adv_large);
    CHECK_EQ_INT(r.nonfinite_count, e.nonfinite);
    CHECK_CLOSE(r.sum_ppo_kl, e.sum_ppo_kl, rtol, 1e-4);
    CHECK_CLOSE(r.sum_kl, e.sum_kl, rtol, 1e-6);
    CHECK_CLOSE(r.sum_eps_high, e.sum_eps_high, rtol, 1e-6);
    CHECK_CLOSE(r.sum_ratio, e.sum_ratio, rtol, 1e-6);
    CHECK_CLOSE(r.sum_entropy, e.sum_entropy, rtol, 1e-6);
    double max_grad = 0.0;
    for (double g : e.grad_logp) max_grad = std::max(max_grad, std::fabs(g));
    for (int64_t k = 0; k < b.tokens(); ++k) {
        CHECK_CLOSE_AT("grad_logp", k, out.grad_logp[k], e.grad_logp[k], 2e-5, 1e-7 * max_grad);
        if (use.grad_entropy) CHECK_CLOSE_AT("grad_entropy", k, out.grad_entropy[k], e.grad_entropy[k], 1e-6, 0.0);
    }
}

void clip_ppo() {
    for (const bool per_token : {false, true}) {
        const Batch b = make_batch(1, 13, 200, per_token);
        const vlmrl_policy_loss_config cfg = default_config(b);
        check_against_reference(b, cfg, {});
        const Expected e = reference(b, cfg, {});
        CHECK(e.n_clip_upper > 0 && e.n_clip_lower > 0);  // the data exercise both bounds
        // ... and both sizes of advantage on each side, clipped and not
        CHECK(e.n_clip_upper_adv_large > 0 && e.n_clip_upper_adv_large < e.n_clip_upper);
        CHECK(e.n_clip_lower_adv_large > 0 && e.n_clip_lower_adv_large < e.n_clip_lower);
    }
}

void clip_higher() {
    const Batch b = make_batch(2, 11, 300, false);
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.clip_mode = VLMRL_CLIP_HIGHER;
    cfg.eps_high = 0.28f;
    check_against_reference(b, cfg, {});
}

/* Statistics of A over the valid tokens, as the trainer computes them for AAAC. */
void set_adv_stats(const Batch& b, vlmrl_policy_loss_config& cfg, int32_t norm) {
    double lo = 1e30, hi = -1e30, sum = 0, sum_sq = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < b.rows; ++i) {
        for (int64_t t = 0; t < b.len; ++t) {
            const int64_t k = i * b.len + t;
            if (!b.mask[k]) continue;
            const double a = b.adv_at(i, k);
            lo = std::min(lo, a);
            hi = std::max(hi, a);
            sum += a;
            sum_sq += a * a;
            ++n;
        }
    }
    cfg.clip_mode = VLMRL_CLIP_AAAC;
    cfg.aaac_norm = norm;
    cfg.eps_high = -1.0f;  // ignored in AAAC mode
    if (norm == VLMRL_AAAC_MINMAX) {
        cfg.adv_stat_a = static_cast<float>(lo);
        cfg.adv_stat_b = static_cast<float>(hi);
    } else {
        const double mean = sum / n;
        cfg.adv_stat_a = static_cast<float>(mean);
        cfg.adv_stat_b = static_cast<float>(std::sqrt(sum_sq / n - mean * mean));
    }
}

void check_aaac(int32_t norm, bool per_token) {
    const Batch b = make_batch(3, 12, 250, per_token);
    vlmrl_policy_loss_config cfg = default_config(b);
    set_adv_stats(b, cfg, norm);
    check_against_reference(b, cfg, {});
    const Output out = run_kernel(b, cfg, {});
    const double mean_eps = out.result.sum_eps_high / out.result.n_valid;
    CHECK(mean_eps > 0.2 && mean_eps < 0.32);
    // Degenerate statistics (all advantages equal): the midpoint eps_high = 0.26.
    if (norm == VLMRL_AAAC_MINMAX)
        cfg.adv_stat_b = cfg.adv_stat_a;
    else
        cfg.adv_stat_b = 0.0f;
    check_against_reference(b, cfg, {});
    const Output flat = run_kernel(b, cfg, {});
    CHECK_CLOSE(flat.result.sum_eps_high / flat.result.n_valid, 0.26, 1e-6, 0.0);
}

void aaac_minmax_per_response_adv() { check_aaac(VLMRL_AAAC_MINMAX, false); }
void aaac_minmax_per_token_adv() { check_aaac(VLMRL_AAAC_MINMAX, true); }
void aaac_zscore_per_response_adv() { check_aaac(VLMRL_AAAC_ZSCORE_CDF, false); }
void aaac_zscore_per_token_adv() { check_aaac(VLMRL_AAAC_ZSCORE_CDF, true); }

void dual_clip() {
    for (const bool per_token : {false, true}) {
        const Batch b = make_batch(4, 10, 300, per_token, 1.5);
        vlmrl_policy_loss_config cfg = default_config(b);
        cfg.dual_clip = 1;
        cfg.dual_clip_c = 3.0f;
        check_against_reference(b, cfg, {});
        CHECK(reference(b, cfg, {}).n_dual_clip > 0);
    }
}

void check_kl(int32_t mode) {
    // Wide ref spread: some deltas beyond the clamp, k3 values beyond its clamp.
    Batch b = make_batch(5, 9, 300, false, 0.3, 3.0);
    b.ref[7] = b.logp[7] + 25.0f;
    b.ref[8] = b.logp[8] - 25.0f;
    b.mask[7] = b.mask[8] = 1;
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.kl_mode = mode;
    cfg.kl_beta = 0.1f;
    check_against_reference(b, cfg, {});
    cfg.kl_beta = 2.5f;
    cfg.kl_agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_SUM;
    cfg.kl_denom = 7.0;
    check_against_reference(b, cfg, {});
}

void kl_k1() { check_kl(VLMRL_KL_K1); }
void kl_k2() { check_kl(VLMRL_KL_K2); }

void kl_k3() {
    check_kl(VLMRL_KL_K3);
    // Where delta is clamped (|ref - logp| > 20) the KL gradient is 0: with A = 0 the
    // policy term vanishes too, so the whole gradient is 0.
    Batch b = make_batch(6, 1, 4, false);
    b.adv[0] = 0.0f;
    b.mask.assign(4, 1);
    const float deltas[4] = {25.0f, -25.0f, 3.0f, -3.0f};  // clamped, clamped, k3 clamped (e^3-4 > 10), inside
    for (int t = 0; t < 4; ++t) b.ref[t] = b.logp[t] + deltas[t];
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.kl_mode = VLMRL_KL_K3;
    cfg.kl_beta = 1.0f;
    const Output out = run_kernel(b, cfg, {});
    CHECK_EQ_INT(out.status, VLMRL_OK);
    CHECK(out.grad_logp[0] == 0.0f && out.grad_logp[1] == 0.0f && out.grad_logp[2] == 0.0f);
    CHECK_CLOSE(out.grad_logp[3], (1.0 - std::exp(-3.0)) / 4.0, 1e-6, 0.0);
    // k3 = e^d - d - 1: 10 (clamped) for d = 20, -20 and 3; e^-3 + 2 for d = -3.
    CHECK_CLOSE(out.result.sum_kl, 30.0 + std::exp(-3.0) + 2.0, 1e-6, 0.0);
    check_against_reference(b, cfg, {});
}

void kl_weights_and_kl_aggregation() {
    // APO: token-mean policy term, KL per response then mean, DADS weights.
    const Batch b = make_batch(7, 16, 180, false, 0.3, 0.8);
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.kl_mode = VLMRL_KL_K3;
    cfg.kl_beta = 1e-3f;
    cfg.kl_agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    int64_t non_empty = 0;
    for (int64_t i = 0; i < b.rows; ++i) non_empty += b.row_valid(i) > 0;
    cfg.kl_denom = static_cast<double>(non_empty);
    check_against_reference(b, cfg, {true, false, false});
    cfg.kl_beta = 0.7f;
    check_against_reference(b, cfg, {true, false, false});
}

void entropy_bonus() {
    const Batch b = make_batch(8, 10, 220, false);
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.entropy_coef = 0.01f;
    check_against_reference(b, cfg, {false, true, true});
    check_against_reference(b, cfg, {false, true, false});
    cfg.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    cfg.denom = 8.0;
    check_against_reference(b, cfg, {false, true, true});
    // Entropy given for the metric only (coefficient 0): gradient 0 at every token.
    cfg.entropy_coef = 0.0f;
    check_against_reference(b, cfg, {false, true, true});
    // No entropy input: grad_entropy, when given, is all zeros.
    const Output out = run_kernel(b, cfg, {false, false, true});
    CHECK_EQ_INT(out.status, VLMRL_OK);
    CHECK(std::all_of(out.grad_entropy.begin(), out.grad_entropy.end(), [](float g) { return g == 0.0f; }));
    CHECK_EQ_INT(out.result.sum_entropy, 0);
    // A bonus without the entropy input is a configuration error.
    cfg.entropy_coef = 0.01f;
    CHECK_EQ_INT(run_kernel(b, cfg, {}).status, VLMRL_ERR_NULL_POINTER);
}

/* Each aggregation mode's loss, written as its docs/algorithms.md definition. */
void aggregation_modes() {
    const Batch b = make_batch(9, 14, 160, false);
    const vlmrl_policy_loss_config base = default_config(b);
    std::vector<double> row_sum(b.rows, 0.0);
    int64_t non_empty = 0, valid = 0;
    for (int64_t i = 0; i < b.rows; ++i) {
        // Per-token losses from the token-mean reference: pg = loss contribution * denom.
        Batch one = b;
        for (int64_t k = 0; k < b.tokens(); ++k)
            if (k / b.len != i) one.mask[k] = 0;
        row_sum[i] = reference(one, base, {}).pg_loss * base.denom;
        non_empty += b.row_valid(i) > 0;
        valid += b.row_valid(i);
    }
    double seq_mean_token_sum = 0, seq_mean_token_mean = 0, token_sum = 0;
    for (int64_t i = 0; i < b.rows; ++i) {
        token_sum += row_sum[i];
        if (b.row_valid(i) > 0) {
            seq_mean_token_sum += row_sum[i] / non_empty;
            seq_mean_token_mean += row_sum[i] / b.row_valid(i) / non_empty;
        }
    }
    const int64_t l_max = b.len;
    struct ModeCase {
        int32_t mode;
        double denom, expected_loss;
    };
    const ModeCase modes[] = {
        {VLMRL_AGG_TOKEN_MEAN, static_cast<double>(valid), token_sum / valid},
        {VLMRL_AGG_SEQ_MEAN_TOKEN_SUM, static_cast<double>(non_empty), seq_mean_token_sum},
        {VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN, static_cast<double>(non_empty), seq_mean_token_mean},
        {VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM, static_cast<double>(b.rows * l_max), token_sum / (b.rows * l_max)},
    };
    for (const ModeCase& m : modes) {
        vlmrl_policy_loss_config cfg = base;
        cfg.agg_mode = m.mode;
        cfg.denom = m.denom;
        cfg.kl_mode = VLMRL_KL_K2;
        cfg.kl_beta = 0.05f;
        cfg.kl_agg_mode = m.mode;
        cfg.kl_denom = m.denom;
        check_against_reference(b, cfg, {false, true, true});
        const Output out = run_kernel(b, cfg, {});
        CHECK_CLOSE(out.result.pg_loss, m.expected_loss, 2e-5, 1e-7);
    }
}

/* Gradient accumulation: micro-batches with mini-batch denominators add up to the mini-batch. */
void micro_batches_sum_to_mini_batch() {
    const Batch full = make_batch(10, 12, 150, false);
    for (const int32_t mode : {VLMRL_AGG_TOKEN_MEAN, VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN}) {
        vlmrl_policy_loss_config cfg = default_config(full);
        cfg.agg_mode = mode;
        if (mode == VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN) cfg.denom = 10.0;  // non-empty responses of the mini-batch
        const Output whole = run_kernel(full, cfg, {});
        double loss_sum = 0.0;
        std::vector<float> grads;
        for (int part = 0; part < 2; ++part) {
            Batch half;
            half.rows = 6;
            half.len = full.len;
            const int64_t t0 = part * 6 * full.len, t1 = (part + 1) * 6 * full.len;
            half.logp.assign(full.logp.begin() + t0, full.logp.begin() + t1);
            half.old.assign(full.old.begin() + t0, full.old.begin() + t1);
            half.ref.assign(full.ref.begin() + t0, full.ref.begin() + t1);
            half.entropy.assign(full.entropy.begin() + t0, full.entropy.begin() + t1);
            half.mask.assign(full.mask.begin() + t0, full.mask.begin() + t1);
            half.adv.assign(full.adv.begin() + part * 6, full.adv.begin() + (part + 1) * 6);
            vlmrl_policy_loss_config part_cfg = cfg;
            part_cfg.n_rows = 6;
            const Output out = run_kernel(half, part_cfg, {});
            CHECK_EQ_INT(out.status, VLMRL_OK);
            loss_sum += out.result.loss;
            grads.insert(grads.end(), out.grad_logp.begin(), out.grad_logp.end());
        }
        CHECK_CLOSE(loss_sum, whole.result.loss, 1e-12, 1e-15);
        CHECK(vt::same_bits(grads, whole.grad_logp));
    }
}

/* d loss / d logp by central differences of the kernel's own loss, away from kinks. */
void finite_differences() {
    for (const int32_t kl_mode : {VLMRL_KL_NONE, VLMRL_KL_K1, VLMRL_KL_K2, VLMRL_KL_K3}) {
        Batch b = make_batch(11, 6, 40, false, 0.4, 0.6);
        vlmrl_policy_loss_config cfg = default_config(b);
        cfg.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
        cfg.denom = 5.0;
        cfg.dual_clip = 1;
        cfg.kl_mode = kl_mode;
        cfg.kl_beta = 0.3f;
        cfg.kl_agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_SUM;
        cfg.kl_denom = 5.0;
        const Output out = run_kernel(b, cfg, {true, false, false});
        int checked = 0;
        for (int64_t k = 0; k < b.tokens() && checked < 25; ++k) {
            if (!b.mask[k]) continue;
            const double rho = std::exp(static_cast<double>(b.logp[k]) - b.old[k]);
            const double bounds[] = {0.8, 1.2, 3.0};
            bool near_kink = false;
            for (double bound : bounds) near_kink |= std::fabs(rho - bound) < 0.02 * bound;
            if (near_kink) continue;
            const float h = 2e-3f, saved = b.logp[k];
            b.logp[k] = saved + h;
            const double up = run_kernel(b, cfg, {true, false, false}).result.loss;
            b.logp[k] = saved - h;
            const double down = run_kernel(b, cfg, {true, false, false}).result.loss;
            b.logp[k] = saved;
            const double h_actual = (static_cast<double>(saved + h) - static_cast<double>(saved - h));
            CHECK_CLOSE_AT("grad_logp vs finite difference", k, out.grad_logp[k], (up - down) / h_actual, 2e-3, 2e-6);
            ++checked;
        }
        CHECK(checked >= 20);
    }
}

void extreme_log_ratios() {
    Batch b = make_batch(12, 2, 8, false);
    b.mask.assign(16, 1);
    b.adv = {1.0f, -1.0f};
    const float gaps[8] = {30.0f, -30.0f, 20.5f, -20.5f, 19.5f, -19.5f, 60.0f, -60.0f};
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t t = 0; t < 8; ++t) {
            b.logp[i * 8 + t] = -1.0f;
            b.old[i * 8 + t] = -1.0f - gaps[t];                  // logp - old = gap
            b.ref[i * 8 + t] = -1.0f + gaps[(t + 3) % 8];        // ref - logp beyond the KL clamp too
        }
    for (const int32_t kl_mode : {VLMRL_KL_NONE, VLMRL_KL_K3, VLMRL_KL_K2}) {
        for (const int dual : {0, 1}) {
            vlmrl_policy_loss_config cfg = default_config(b);
            cfg.kl_mode = kl_mode;
            cfg.kl_beta = 0.5f;
            cfg.dual_clip = dual;
            const Output out = run_kernel(b, cfg, {});
            CHECK_EQ_INT(out.status, VLMRL_OK);
            CHECK(std::isfinite(out.result.loss));
            CHECK(std::isfinite(out.result.sum_ratio));
            for (float g : out.grad_logp) CHECK(std::isfinite(g));
            CHECK_CLOSE(out.result.sum_ratio,
                        2 * (2 * std::exp(20.0) + 2 * std::exp(-20.0) + std::exp(19.5) + std::exp(-19.5)) +
                            2 * (std::exp(20.0) + std::exp(-20.0)),
                        1e-5, 0.0);
            check_against_reference(b, cfg, {});
        }
    }
}

void empty_and_all_masked() {
    // B = 0 and T = 0, with NULL inputs: nothing to do.
    for (const int64_t rows : {0, 3}) {
        Batch b;
        b.rows = rows;
        b.len = rows == 0 ? 10 : 0;
        vlmrl_policy_loss_config cfg = default_config(b);
        cfg.denom = 0.0;
        vlmrl_policy_loss_result result;
        result.loss = 5.0;
        CHECK_EQ_INT(vlmrl_policy_loss_cpu(&cfg, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                           nullptr, &result),
                     VLMRL_OK);
        CHECK(result.loss == 0.0 && result.n_valid == 0 && result.first_nonfinite == -1 &&
              result.first_nonfinite_input == -1);
    }
    // All masked, denominators 0 (a mini-batch of empty responses): loss 0 and every gradient 0.
    Batch b = make_batch(13, 5, 30, false);
    b.mask.assign(b.mask.size(), 0);
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.denom = 0.0;
    cfg.kl_mode = VLMRL_KL_K3;
    cfg.kl_denom = 0.0;
    cfg.entropy_coef = 0.1f;
    const Output out = run_kernel(b, cfg, {true, true, true});
    CHECK_EQ_INT(out.status, VLMRL_OK);
    CHECK(out.result.loss == 0.0 && out.result.n_valid == 0 && out.result.sum_ratio == 0.0);
    CHECK(std::all_of(out.grad_logp.begin(), out.grad_logp.end(), [](float g) { return g == 0.0f; }));
    CHECK(std::all_of(out.grad_entropy.begin(), out.grad_entropy.end(), [](float g) { return g == 0.0f; }));
}

void single_row() {
    for (const int64_t len : {1, 7, 9000}) {  // 9000 spans two chunks
        Batch b = make_batch(14, 1, len, false);
        b.mask[0] = 1;
        vlmrl_policy_loss_config cfg = default_config(b);
        cfg.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
        cfg.denom = 1.0;
        cfg.kl_mode = VLMRL_KL_K3;
        cfg.kl_beta = 0.1f;
        check_against_reference(b, cfg, {true, true, true});
        b.adv[0] = 0.0f;  // G = 1: the advantage is 0, only the KL term has a gradient
        check_against_reference(b, cfg, {true, true, true});
    }
}

void nonfinite_inputs_both_policies() {
    for (const int32_t policy : {VLMRL_NONFINITE_ERROR, VLMRL_NONFINITE_MASK}) {
        for (const bool per_token : {false, true}) {
            Batch b = make_batch(15, 8, 2000, per_token, 0.3, 0.5);
            for (int64_t k = 0; k < b.tokens(); ++k) b.mask[k] = 1;
            b.logp[9000] = kNaN;   // first bad token: logp (its other inputs are fine)
            b.old[9500] = kInf;
            b.ref[12000] = kNaN;
            b.ref[12001] = kNaN;
            b.logp[12001] = kNaN;  // two bad inputs: LOGP is reported (lowest id)
            b.entropy[11001] = -kInf;
            b.kl_weight[7] = kNaN;  // every token of row 7
            b.mask[1000] = 0;
            b.logp[1000] = kNaN;  // masked: ignored
            int64_t expected_bad;
            if (per_token) {
                b.adv[4000] = kNaN;
                expected_bad = 6 + 2000;  // 4000, 9000, 9500, 11001, 12000, 12001 and row 7
            } else {
                b.adv[6] = kNaN;  // every token of row 6, which holds 12000 and 12001
                expected_bad = 3 + 2000 + 2000;  // 9000, 9500, 11001, rows 6 and 7
            }
            vlmrl_policy_loss_config cfg = default_config(b);
            cfg.nonfinite_policy = policy;
            cfg.kl_mode = VLMRL_KL_K3;
            cfg.kl_beta = 0.2f;
            cfg.entropy_coef = 0.01f;
            const Use use{true, true, true};
            const Output out = run_kernel(b, cfg, use);
            CHECK_EQ_INT(out.status, VLMRL_OK);
            CHECK_EQ_INT(out.result.nonfinite_count, expected_bad);
            CHECK_EQ_INT(out.result.first_nonfinite, per_token ? 4000 : 9000);
            CHECK_EQ_INT(out.result.first_nonfinite_input, per_token ? VLMRL_INPUT_ADV : VLMRL_INPUT_LOGP);
            CHECK(out.grad_logp[9000] == 0.0f && out.grad_logp[12001] == 0.0f && out.grad_entropy[9500] == 0.0f);
            CHECK(out.grad_logp[7 * 2000 + 5] == 0.0f);
            check_against_reference(b, cfg, use);  // the reference skips non-finite tokens

            // First bad input ids of the other kinds.
            Batch c = make_batch(16, 2, 50, false);
            c.mask.assign(c.mask.size(), 1);
            const int32_t expected_ids[] = {VLMRL_INPUT_OLD, VLMRL_INPUT_REF, VLMRL_INPUT_ENTROPY,
                                            VLMRL_INPUT_KL_WEIGHT, VLMRL_INPUT_ADV};
            for (int32_t id : expected_ids) {
                Batch d = c;
                if (id == VLMRL_INPUT_OLD) d.old[60] = kNaN;
                if (id == VLMRL_INPUT_REF) d.ref[60] = kInf;
                if (id == VLMRL_INPUT_ENTROPY) d.entropy[60] = kNaN;
                if (id == VLMRL_INPUT_KL_WEIGHT) d.kl_weight[1] = kInf;
                if (id == VLMRL_INPUT_ADV) d.adv[1] = kNaN;
                vlmrl_policy_loss_config dcfg = default_config(d);
                dcfg.nonfinite_policy = policy;
                dcfg.kl_mode = VLMRL_KL_K1;
                dcfg.kl_beta = 0.1f;
                const Output o = run_kernel(d, dcfg, use);
                CHECK_EQ_INT(o.result.first_nonfinite_input, id);
                CHECK_EQ_INT(o.result.first_nonfinite, (id == VLMRL_INPUT_KL_WEIGHT || id == VLMRL_INPUT_ADV) ? 50 : 60);
            }
        }
    }
}

void expect_error(int status, int expected_status, const char* field) {
    CHECK_EQ_INT(status, expected_status);
    const std::string message = vlmrl_last_error();
    vt::check(message.find(field) != std::string::npos, __FILE__, __LINE__, "message '%s' does not name '%s'",
              message.c_str(), field);
}

/* vlmrl_policy_loss_config_init overwrites whatever was there with the spec's defaults, and
 * they pass validation in every clip and KL mode that has no other required setting. */
void config_init_gives_the_spec_defaults() {
    vlmrl_policy_loss_config c;
    std::memset(&c, 0x7f, sizeof c);
    vlmrl_policy_loss_config_init(&c, 3, 20);
    CHECK(c.n_rows == 3 && c.row_len == 20 && c.adv_per_token == 0);
    CHECK(c.clip_mode == VLMRL_CLIP_PPO && c.eps_low == 0.2f && c.eps_high == 0.2f);
    CHECK(c.aaac_norm == VLMRL_AAAC_MINMAX && c.aaac_eps_min == 0.2f && c.aaac_eps_max == 0.32f);
    CHECK(c.adv_stat_a == 0.0f && c.adv_stat_b == 0.0f);
    CHECK(c.dual_clip == 0 && c.dual_clip_c == 3.0f);
    CHECK(c.kl_mode == VLMRL_KL_NONE && c.kl_beta == 0.0f && c.kl_agg_mode == VLMRL_AGG_TOKEN_MEAN);
    CHECK(c.entropy_coef == 0.0f && c.agg_mode == VLMRL_AGG_TOKEN_MEAN && c.denom == 1.0 && c.kl_denom == 1.0);
    CHECK(c.logratio_clamp == 20.0f && c.kl_clamp == 20.0f && c.k3_clamp == 10.0f);
    CHECK_EQ_INT(c.nonfinite_policy, VLMRL_NONFINITE_ERROR);
    const Batch b = make_batch(5, 3, 20, false);
    for (int32_t clip : {VLMRL_CLIP_PPO, VLMRL_CLIP_HIGHER}) {
        for (int32_t kl : {VLMRL_KL_NONE, VLMRL_KL_K1, VLMRL_KL_K2, VLMRL_KL_K3}) {
            vlmrl_policy_loss_config cfg = c;
            cfg.clip_mode = clip;
            cfg.kl_mode = kl;
            CHECK_EQ_INT(run_kernel(b, cfg, {}).status, VLMRL_OK);
        }
    }
}

void bad_configs_are_rejected() {
    const Batch b = make_batch(17, 3, 20, false);
    const vlmrl_policy_loss_config good = default_config(b);
    CHECK_EQ_INT(run_kernel(b, good, {}).status, VLMRL_OK);
    struct Bad {
        const char* field;
        void (*edit)(vlmrl_policy_loss_config&);
    };
    const Bad cases[] = {
        {"n_rows", [](vlmrl_policy_loss_config& c) { c.n_rows = -1; }},
        {"row_len", [](vlmrl_policy_loss_config& c) { c.row_len = -2; }},
        {"adv_per_token", [](vlmrl_policy_loss_config& c) { c.adv_per_token = 2; }},
        {"clip_mode", [](vlmrl_policy_loss_config& c) { c.clip_mode = 3; }},
        {"eps_low", [](vlmrl_policy_loss_config& c) { c.eps_low = 1.0f; }},
        {"eps_low", [](vlmrl_policy_loss_config& c) { c.eps_low = -0.1f; }},
        {"eps_high", [](vlmrl_policy_loss_config& c) { c.eps_high = kNaN; }},
        {"aaac_norm", [](vlmrl_policy_loss_config& c) { c.clip_mode = VLMRL_CLIP_AAAC; c.aaac_norm = 4; }},
        {"aaac_eps_max", [](vlmrl_policy_loss_config& c) { c.clip_mode = VLMRL_CLIP_AAAC; c.aaac_eps_max = 0.1f; }},
        {"adv_stat_b", [](vlmrl_policy_loss_config& c) { c.clip_mode = VLMRL_CLIP_AAAC; c.adv_stat_a = 1; c.adv_stat_b = 0; }},
        {"adv_stat_b", [](vlmrl_policy_loss_config& c) {
             c.clip_mode = VLMRL_CLIP_AAAC; c.aaac_norm = VLMRL_AAAC_ZSCORE_CDF; c.adv_stat_b = -1; }},
        {"dual_clip_c", [](vlmrl_policy_loss_config& c) { c.dual_clip = 1; c.dual_clip_c = 1.0f; }},
        {"kl_mode", [](vlmrl_policy_loss_config& c) { c.kl_mode = 9; }},
        {"kl_agg_mode", [](vlmrl_policy_loss_config& c) { c.kl_mode = VLMRL_KL_K1; c.kl_agg_mode = -1; }},
        {"kl_denom", [](vlmrl_policy_loss_config& c) { c.kl_mode = VLMRL_KL_K1; c.kl_denom = 0.0; }},
        {"kl_clamp", [](vlmrl_policy_loss_config& c) { c.kl_mode = VLMRL_KL_K1; c.kl_clamp = 0.0f; }},
        {"k3_clamp", [](vlmrl_policy_loss_config& c) { c.kl_mode = VLMRL_KL_K3; c.k3_clamp = -1.0f; }},
        {"agg_mode", [](vlmrl_policy_loss_config& c) { c.agg_mode = 4; }},
        {"denom", [](vlmrl_policy_loss_config& c) { c.denom = 0.0; }},
        {"denom", [](vlmrl_policy_loss_config& c) { c.denom = std::numeric_limits<double>::infinity(); }},
        {"logratio_clamp", [](vlmrl_policy_loss_config& c) { c.logratio_clamp = kInf; }},
        {"logratio_clamp", [](vlmrl_policy_loss_config& c) { c.logratio_clamp = 100.0f; }},
        {"kl_clamp", [](vlmrl_policy_loss_config& c) { c.kl_mode = VLMRL_KL_K3; c.kl_clamp = 81.0f; }},
        {"nonfinite_policy", [](vlmrl_policy_loss_config& c) { c.nonfinite_policy = 2; }},
        {"entropy_coef", [](vlmrl_policy_loss_config& c) { c.entropy_coef = kNaN; }},
    };
    for (const Bad& bad : cases) {
        vlmrl_policy_loss_config cfg = good;
        bad.edit(cfg);
        expect_error(run_kernel(b, cfg, {true, true, true}).status, VLMRL_ERR_BAD_CONFIG, bad.field);
    }
    // Required pointers.
    std::vector<float> grad(static_cast<size_t>(b.tokens()));
    vlmrl_policy_loss_result result;
    expect_error(vlmrl_policy_loss_cpu(&good, nullptr, b.old.data(), b.adv.data(), b.mask.data(), nullptr, nullptr,
                                       nullptr, grad.data(), nullptr, &result),
                 VLMRL_ERR_NULL_POINTER, "logp");
    expect_error(vlmrl_policy_loss_cpu(&good, b.logp.data(), b.old.data(), b.adv.data(), b.mask.data(), nullptr,
                                       nullptr, nullptr, nullptr, nullptr, &result),
                 VLMRL_ERR_NULL_POINTER, "grad_logp");
    vlmrl_policy_loss_config kl = good;
    kl.kl_mode = VLMRL_KL_K2;
    expect_error(vlmrl_policy_loss_cpu(&kl, b.logp.data(), b.old.data(), b.adv.data(), b.mask.data(), nullptr,
                                       nullptr, nullptr, grad.data(), nullptr, &result),
                 VLMRL_ERR_NULL_POINTER, "ref");
    expect_error(vlmrl_policy_loss_cpu(&good, b.logp.data(), b.old.data(), b.adv.data(), b.mask.data(), nullptr,
                                       nullptr, nullptr, grad.data(), nullptr, nullptr),
                 VLMRL_ERR_NULL_POINTER, "result");
}

void deterministic_across_thread_counts() {
    const Batch b = make_batch(18, 48, 4000, false, 0.5, 1.0);  // 192k tokens, 24 chunks, rows split across chunks
    vlmrl_policy_loss_config cfg = default_config(b);
    cfg.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    cfg.denom = 40.0;
    cfg.kl_mode = VLMRL_KL_K3;
    cfg.kl_beta = 0.01f;
    cfg.entropy_coef = 0.001f;
    cfg.dual_clip = 1;
    const int saved = omp_get_max_threads();
    std::vector<Output> outs;
    for (const int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        outs.push_back(run_kernel(b, cfg, {true, true, true}));
    }
    omp_set_num_threads(saved);
    for (size_t i = 1; i < outs.size(); ++i) {
        CHECK(vt::same_bits(outs[i].result, outs[0].result));
        CHECK(vt::same_bits(outs[i].grad_logp, outs[0].grad_logp));
        CHECK(vt::same_bits(outs[i].grad_entropy, outs[0].grad_entropy));
    }
    check_against_reference(b, cfg, {true, true, true});
}

}  // namespace

int main(int argc, char** argv) {
    return vt::run_cases(argc, argv, "test_policy_loss",
                         {{"clip_ppo", clip_ppo},
                          {"clip_higher", clip_higher},
                          {"aaac_minmax_per_response_adv", aaac_minmax_per_response_adv},
                          {"aaac_minmax_per_token_adv", aaac_minmax_per_token_adv},
                          {"aaac_zscore_per_response_adv", aaac_zscore_per_response_adv},
                          {"aaac_zscore_per_token_adv", aaac_zscore_per_token_adv},
                          {"dual_clip", dual_clip},
                          {"kl_k1", kl_k1},
                          {"kl_k2", kl_k2},
                          {"kl_k3", kl_k3},
                          {"kl_weights_and_kl_aggregation", kl_weights_and_kl_aggregation},
                          {"entropy_bonus", entropy_bonus},
                          {"aggregation_modes", aggregation_modes},
                          {"micro_batches_sum_to_mini_batch", micro_batches_sum_to_mini_batch},
                          {"finite_differences", finite_differences},
                          {"extreme_log_ratios", extreme_log_ratios},
                          {"empty_and_all_masked", empty_and_all_masked},
                          {"single_row", single_row},
                          {"nonfinite_inputs_both_policies", nonfinite_inputs_both_policies},
                          {"config_init_gives_the_spec_defaults", config_init_gives_the_spec_defaults},
                          {"bad_configs_are_rejected", bad_configs_are_rejected},
                          {"deterministic_across_thread_counts", deterministic_across_thread_counts}});
}
