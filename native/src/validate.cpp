// Argument checks shared by the CPU and CUDA kernels (see validate.h).
#include "validate.h"

#include <cinttypes>
#include <cmath>

#include "internal.h"

namespace {

bool finite_positive(double x) { return std::isfinite(x) && x > 0.0; }

int bad_config(const char* fn, const char* field, const char* expected, double actual) {
    return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: %s must be %s, got %g", fn, field, expected, actual);
}

/* A clamp on an exp argument: > 0, and at most what the kernel's exp can take. */
int check_exp_clamp(const char* fn, const char* field, float value, float max_exp_clamp) {
    if (std::isinf(max_exp_clamp)) {
        if (!(value > 0.0f && std::isfinite(value))) return bad_config(fn, field, "finite and > 0", value);
    } else if (!(value > 0.0f && value <= max_exp_clamp)) {
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: %s must be in (0, %g] (e^%s must stay finite in float), got %g",
                               fn, field, static_cast<double>(max_exp_clamp), field, static_cast<double>(value));
    }
    return VLMRL_OK;
}

/* The AAAC fields (only read under VLMRL_CLIP_AAAC). */
int validate_aaac(const vlmrl_policy_loss_config& cfg, const char* fn) {
    if (cfg.aaac_norm != VLMRL_AAAC_MINMAX && cfg.aaac_norm != VLMRL_AAAC_ZSCORE_CDF)
        return bad_config(fn, "aaac_norm", "VLMRL_AAAC_MINMAX (0) or VLMRL_AAAC_ZSCORE_CDF (1)", cfg.aaac_norm);
    if (!(cfg.aaac_eps_min >= 0.0f && std::isfinite(cfg.aaac_eps_min)))
        return bad_config(fn, "aaac_eps_min", "finite and >= 0", cfg.aaac_eps_min);
    if (!(cfg.aaac_eps_max >= cfg.aaac_eps_min && std::isfinite(cfg.aaac_eps_max)))
        return bad_config(fn, "aaac_eps_max", "finite and >= aaac_eps_min", cfg.aaac_eps_max);
    if (!std::isfinite(cfg.adv_stat_a)) return bad_config(fn, "adv_stat_a", "finite", cfg.adv_stat_a);
    if (!std::isfinite(cfg.adv_stat_b)) return bad_config(fn, "adv_stat_b", "finite", cfg.adv_stat_b);
    if (cfg.aaac_norm == VLMRL_AAAC_MINMAX && cfg.adv_stat_b < cfg.adv_stat_a)
        return bad_config(fn, "adv_stat_b (max of A)", ">= adv_stat_a (min of A)", cfg.adv_stat_b);
    if (cfg.aaac_norm == VLMRL_AAAC_ZSCORE_CDF && cfg.adv_stat_b < 0.0f)
        return bad_config(fn, "adv_stat_b (std of A)", ">= 0", cfg.adv_stat_b);
    return VLMRL_OK;
}

/* The KL fields (only read when kl_mode != VLMRL_KL_NONE). */
int validate_kl(const vlmrl_policy_loss_config& cfg, const char* fn, float max_exp_clamp) {
    if (!std::isfinite(cfg.kl_beta)) return bad_config(fn, "kl_beta", "finite", cfg.kl_beta);
    if (cfg.kl_agg_mode < VLMRL_AGG_TOKEN_MEAN || cfg.kl_agg_mode > VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM)
        return bad_config(fn, "kl_agg_mode", "a VLMRL_AGG_* value in [0, 3]", cfg.kl_agg_mode);
    const int status = check_exp_clamp(fn, "kl_clamp", cfg.kl_clamp, max_exp_clamp);
    if (status != VLMRL_OK) return status;
    if (cfg.kl_mode == VLMRL_KL_K3 && !(cfg.k3_clamp > 0.0f && std::isfinite(cfg.k3_clamp)))
        return bad_config(fn, "k3_clamp", "finite and > 0", cfg.k3_clamp);
    return VLMRL_OK;
}

}  // namespace

extern "C" void vlmrl_policy_loss_config_init(vlmrl_policy_loss_config* cfg, int64_t n_rows, int64_t row_len) {
    if (cfg == nullptr) return;
    *cfg = vlmrl_policy_loss_config{};
    cfg->n_rows = n_rows;
    cfg->row_len = row_len;
    cfg->adv_per_token = 0;
    cfg->clip_mode = VLMRL_CLIP_PPO;
    cfg->eps_low = 0.2f;
    cfg->eps_high = 0.2f;
    cfg->aaac_norm = VLMRL_AAAC_MINMAX;
    cfg->aaac_eps_min = 0.2f;
    cfg->aaac_eps_max = 0.32f;
    cfg->dual_clip = 0;
    cfg->dual_clip_c = 3.0f;
    cfg->kl_mode = VLMRL_KL_NONE;
    cfg->kl_beta = 0.0f;
    cfg->kl_agg_mode = VLMRL_AGG_TOKEN_MEAN;
    cfg->kl_denom = 1.0;
    cfg->entropy_coef = 0.0f;
    cfg->agg_mode = VLMRL_AGG_TOKEN_MEAN;
    cfg->denom = 1.0;
    cfg->logratio_clamp = 20.0f;
    cfg->kl_clamp = 20.0f;
    cfg->k3_clamp = 10.0f;
    cfg->nonfinite_policy = VLMRL_NONFINITE_ERROR;
    cfg->adv_size_split = 1.0f;
}

extern "C" int vlmrl_validate_policy_loss_config(const vlmrl_policy_loss_config* config, const char* fn,
                                                 float max_exp_clamp) {
    const vlmrl_policy_loss_config& cfg = *config;
    if (cfg.n_rows < 0) return bad_config(fn, "n_rows", ">= 0", static_cast<double>(cfg.n_rows));
    if (cfg.row_len < 0) return bad_config(fn, "row_len", ">= 0", static_cast<double>(cfg.row_len));
    if (cfg.row_len > 0 && cfg.n_rows > INT64_MAX / cfg.row_len)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG,
                               "%s: n_rows * row_len must fit in int64, got %" PRId64 " * %" PRId64, fn,
                               cfg.n_rows, cfg.row_len);
    if (cfg.adv_per_token != 0 && cfg.adv_per_token != 1)
        return bad_config(fn, "adv_per_token", "0 or 1", cfg.adv_per_token);
    if (cfg.clip_mode < VLMRL_CLIP_PPO || cfg.clip_mode > VLMRL_CLIP_AAAC)
        return bad_config(fn, "clip_mode", "VLMRL_CLIP_PPO (0), VLMRL_CLIP_HIGHER (1) or VLMRL_CLIP_AAAC (2)",
                          cfg.clip_mode);
    if (!(cfg.eps_low >= 0.0f && cfg.eps_low < 1.0f)) return bad_config(fn, "eps_low", "in [0, 1)", cfg.eps_low);
    int status = VLMRL_OK;
    if (cfg.clip_mode == VLMRL_CLIP_AAAC) {
        if ((status = validate_aaac(cfg, fn)) != VLMRL_OK) return status;
    } else if (!(cfg.eps_high >= 0.0f && std::isfinite(cfg.eps_high))) {
        return bad_config(fn, "eps_high", "finite and >= 0", cfg.eps_high);
    }
    if (cfg.dual_clip != 0 && cfg.dual_clip != 1) return bad_config(fn, "dual_clip", "0 or 1", cfg.dual_clip);
    if (cfg.dual_clip && !(cfg.dual_clip_c > 1.0f && std::isfinite(cfg.dual_clip_c)))
        return bad_config(fn, "dual_clip_c", "finite and > 1", cfg.dual_clip_c);
    if (cfg.kl_mode < VLMRL_KL_NONE || cfg.kl_mode > VLMRL_KL_K3)
        return bad_config(fn, "kl_mode", "VLMRL_KL_NONE (0), K1 (1), K2 (2) or K3 (3)", cfg.kl_mode);
    if (cfg.kl_mode != VLMRL_KL_NONE && (status = validate_kl(cfg, fn, max_exp_clamp)) != VLMRL_OK) return status;
    if (!std::isfinite(cfg.entropy_coef)) return bad_config(fn, "entropy_coef", "finite", cfg.entropy_coef);
    if (cfg.agg_mode < VLMRL_AGG_TOKEN_MEAN || cfg.agg_mode > VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM)
        return bad_config(fn, "agg_mode", "a VLMRL_AGG_* value in [0, 3]", cfg.agg_mode);
    if ((status = check_exp_clamp(fn, "logratio_clamp", cfg.logratio_clamp, max_exp_clamp)) != VLMRL_OK)
        return status;
    if (cfg.nonfinite_policy != VLMRL_NONFINITE_ERROR && cfg.nonfinite_policy != VLMRL_NONFINITE_MASK)
        return bad_config(fn, "nonfinite_policy", "VLMRL_NONFINITE_ERROR (0) or VLMRL_NONFINITE_MASK (1)",
                          cfg.nonfinite_policy);
    if (!(cfg.adv_size_split >= 0.0f)) return bad_config(fn, "adv_size_split", ">= 0", cfg.adv_size_split);
    return VLMRL_OK;
}

extern "C" int vlmrl_validate_policy_loss_pointers(const vlmrl_policy_loss_config* cfg, const float* logp,
                                                   const float* old, const float* adv, const uint8_t* mask,
                                                   const float* ref, const float* entropy, const float* grad_logp,
                                                   const char* fn) {
    if (logp == nullptr || old == nullptr || adv == nullptr || mask == nullptr || grad_logp == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER,
                               "%s: logp, old, adv, mask and grad_logp must not be NULL (got logp=%p "
                               "old=%p adv=%p mask=%p grad_logp=%p)",
                               fn, static_cast<const void*>(logp), static_cast<const void*>(old),
                               static_cast<const void*>(adv), static_cast<const void*>(mask),
                               static_cast<const void*>(grad_logp));
    if (cfg->kl_mode != VLMRL_KL_NONE && ref == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "%s: ref must not be NULL when kl_mode = %d", fn,
                               cfg->kl_mode);
    if (cfg->entropy_coef != 0.0f && entropy == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER,
                               "%s: entropy must not be NULL when entropy_coef != 0 (got entropy_coef = %g)", fn,
                               static_cast<double>(cfg->entropy_coef));
    return VLMRL_OK;
}

extern "C" int vlmrl_validate_policy_loss_denoms(const vlmrl_policy_loss_config* cfg, int64_t total_valid,
                                                 const char* fn) {
    if (total_valid > 0 && !finite_positive(cfg->denom))
        return bad_config(fn, "denom", "finite and > 0 when there are valid tokens", cfg->denom);
    if (total_valid > 0 && cfg->kl_mode != VLMRL_KL_NONE && !finite_positive(cfg->kl_denom))
        return bad_config(fn, "kl_denom", "finite and > 0 when kl_mode != NONE and there are valid tokens",
                          cfg->kl_denom);
    return VLMRL_OK;
}

extern "C" int vlmrl_validate_token_logprobs_config(const vlmrl_token_logprobs_config* cfg, const char* fn) {
    if (cfg == nullptr) return vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "%s: cfg must not be NULL", fn);
    if (cfg->n_rows < 0)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: n_rows must be >= 0, got %" PRId64, fn, cfg->n_rows);
    if (cfg->vocab < 1)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: vocab must be >= 1, got %" PRId64, fn, cfg->vocab);
    if (cfg->row_stride < cfg->vocab)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: row_stride must be >= vocab (%" PRId64 "), got %" PRId64,
                               fn, cfg->vocab, cfg->row_stride);
    if (!(cfg->temperature > 0.0f) || !std::isfinite(cfg->temperature))
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s: temperature must be finite and > 0, got %g", fn,
                               static_cast<double>(cfg->temperature));
    if (cfg->dtype != VLMRL_DTYPE_F32 && cfg->dtype != VLMRL_DTYPE_BF16)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG,
                               "%s: dtype must be VLMRL_DTYPE_F32 (0) or VLMRL_DTYPE_BF16 (1), got %d", fn,
                               cfg->dtype);
    if (cfg->nonfinite_policy != VLMRL_NONFINITE_ERROR && cfg->nonfinite_policy != VLMRL_NONFINITE_MASK)
        return vlmrl_set_error(VLMRL_ERR_BAD_CONFIG,
                               "%s: nonfinite_policy must be VLMRL_NONFINITE_ERROR (0) or "
                               "VLMRL_NONFINITE_MASK (1), got %d",
                               fn, cfg->nonfinite_policy);
    return VLMRL_OK;
}

extern "C" int vlmrl_validate_token_logprobs_forward_pointers(const void* logits, const int64_t* targets,
                                                              const float* logp, const float* lse,
                                                              const char* fn) {
    if (logits == nullptr || targets == nullptr || logp == nullptr || lse == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER,
                               "%s: logits, targets, logp and lse must not be NULL when n_rows > 0 "
                               "(got logits=%p targets=%p logp=%p lse=%p)",
                               fn, logits, static_cast<const void*>(targets), static_cast<const void*>(logp),
                               static_cast<const void*>(lse));
    return VLMRL_OK;
}

extern "C" int vlmrl_validate_token_logprobs_backward_pointers(const void* logits, const int64_t* targets,
                                                               const float* lse, const float* entropy,
                                                               const float* grad_entropy, const void* grad_logits,
                                                               const char* fn) {
    if (logits == nullptr || targets == nullptr || lse == nullptr || grad_logits == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER,
                               "%s: logits, targets, lse and grad_logits must not be NULL when n_rows > 0 "
                               "(got logits=%p targets=%p lse=%p grad_logits=%p)",
                               fn, logits, static_cast<const void*>(targets), static_cast<const void*>(lse),
                               grad_logits);
    if (grad_entropy != nullptr && entropy == nullptr)
        return vlmrl_set_error(VLMRL_ERR_NULL_POINTER,
                               "%s: entropy (the forward's output) must not be NULL when grad_entropy is given",
                               fn);
    return VLMRL_OK;
}
