/*
 * Clipped policy loss, forward and backward in one pass over the tokens
 * (docs/algorithms.md: "Ratio", "Clipped policy loss", "AAAC", "KL penalty",
 * "Loss aggregation").
 *
 * Per valid token (mask = 1) of response i:
 *   logratio = clamp(logp - old, -lr_clamp, lr_clamp),  rho = exp(logratio)
 *   pg       = max(-A rho, -A clip(rho, 1 - eps_low, 1 + eps_high))
 *              and, with dual clip and A < 0, min(pg, -A c)
 *   kl       = lambda_i * k(delta), delta = clamp(ref - logp, -kl_clamp, kl_clamp)   (when kl_mode != NONE)
 *   loss     = agg_pg(pg) + beta * agg_kl(kl) - entropy_coef * agg_pg(H)
 *
 * Aggregation is a per-token weight w[i,t] (docs/algorithms.md "Loss aggregation"):
 *   TOKEN_MEAN, SEQ_MEAN_TOKEN_SUM, SEQ_MEAN_TOKEN_SUM_NORM:  w = 1 / denom
 *   SEQ_MEAN_TOKEN_MEAN:                                       w = 1 / (denom * L_i)
 * where denom is supplied by the caller from the whole mini-batch (total valid
 * tokens; number of non-empty responses; number of responses * L_max), so that
 * gradient accumulation over micro-batches gives the mini-batch gradient exactly.
 * L_i (valid tokens of row i) is counted by the kernel: a response never spans
 * two calls.
 *
 * Outputs: the micro-batch's loss contribution, d loss / d logp per token, and
 * optionally d loss / d entropy, plus sums behind the metrics. Reductions are
 * deterministic: fixed-size chunks reduced in a fixed order, independent of the
 * thread count.
 */
#ifndef VLMRL_POLICY_LOSS_H
#define VLMRL_POLICY_LOSS_H

#include "vlmrl/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Clip modes. */
#define VLMRL_CLIP_PPO 0          /* eps_low, eps_high as given (0.2 / 0.2 by default) */
#define VLMRL_CLIP_HIGHER 1       /* same math as PPO; the caller passes eps_high = 0.28 (DAPO) */
#define VLMRL_CLIP_AAAC 2         /* eps_high per token from the normalized advantage */

/* AAAC normalizations of the advantage. */
#define VLMRL_AAAC_MINMAX 0       /* At = (A - adv_stat_a) / (adv_stat_b - adv_stat_a), stat_a = min, stat_b = max; 0.5 if equal */
#define VLMRL_AAAC_ZSCORE_CDF 1   /* At = Phi((A - adv_stat_a) / adv_stat_b), stat_a = mean, stat_b = std; 0.5 if std = 0 */

/* KL estimators (to the reference policy). */
#define VLMRL_KL_NONE 0
#define VLMRL_KL_K1 1             /* -delta,                        d/dlogp = 1 */
#define VLMRL_KL_K2 2             /* delta^2 / 2,                   d/dlogp = -delta */
#define VLMRL_KL_K3 3             /* clamp(e^delta - delta - 1, -k3_clamp, k3_clamp), d/dlogp = 1 - e^delta */
/* Where delta itself is clamped, every estimator's gradient is 0 (autograd of the clamp). */

/* Aggregation modes. */
#define VLMRL_AGG_TOKEN_MEAN 0
#define VLMRL_AGG_SEQ_MEAN_TOKEN_SUM 1
#define VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN 2
#define VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM 3

/* Input tensor ids, reported in first_nonfinite_tensor. */
#define VLMRL_INPUT_LOGP 0
#define VLMRL_INPUT_OLD 1
#define VLMRL_INPUT_ADV 2
#define VLMRL_INPUT_REF 3
#define VLMRL_INPUT_ENTROPY 4
#define VLMRL_INPUT_KL_WEIGHT 5

typedef struct vlmrl_policy_loss_config {
    int64_t n_rows;           /* B: responses in this call */
    int64_t row_len;          /* T: tokens per response; token (i, t) is at i * row_len + t */
    int32_t adv_per_token;    /* 0: adv is [B] (one value per response); 1: adv is [B, T] */

    int32_t clip_mode;        /* VLMRL_CLIP_* */
    float eps_low;            /* lower clip: rho >= 1 - eps_low */
    float eps_high;           /* upper clip for PPO / CLIP_HIGHER */
    int32_t aaac_norm;        /* VLMRL_AAAC_* (AAAC only) */
    float aaac_eps_min;       /* eps_high at At = 0 (default 0.20) */
    float aaac_eps_max;       /* eps_high at At = 1 (default 0.32) */
    float adv_stat_a;         /* min (MINMAX) or mean (ZSCORE_CDF) of A over the rollout batch's valid tokens */
    float adv_stat_b;         /* max (MINMAX) or std (ZSCORE_CDF) */

    int32_t dual_clip;        /* 1: bound the loss of A < 0 tokens by -A * dual_clip_c */
    float dual_clip_c;        /* > 1, default 3 */

    int32_t kl_mode;          /* VLMRL_KL_* */
    float kl_beta;            /* weight of the KL term in the loss */
    int32_t kl_agg_mode;      /* VLMRL_AGG_* for the KL term */
    double kl_denom;          /* mini-batch denominator for kl_agg_mode */

    float entropy_coef;       /* > 0 subtracts entropy_coef * agg_pg(H); needs the entropy input */

    int32_t agg_mode;         /* VLMRL_AGG_* for the policy (and entropy) term */
    double denom;             /* mini-batch denominator for agg_mode (> 0) */

    float logratio_clamp;     /* default 20 */
    float kl_clamp;           /* default 20 */
    float k3_clamp;           /* default 10 */
    int32_t nonfinite_policy; /* VLMRL_NONFINITE_* */
    float adv_size_split;     /* metrics only: tokens with |A| >= adv_size_split count as large-advantage
                                 in the n_*_adv_large counts (default 1: one group std of GRPO's A) */
} vlmrl_policy_loss_config;

/* Fills *cfg with the spec's defaults for a [n_rows, n_rows x row_len] call: PPO clip 0.2 / 0.2,
 * AAAC 0.20 -> 0.32 (min-max), dual clip off (c = 3), no KL (beta 0, token-mean), no entropy
 * bonus, token-mean aggregation, denominators 1, clamps 20 / 20 / 10, non-finite inputs an
 * error, advantages one per response, advantage-size split 1. Callers then change only what they need. */
void vlmrl_policy_loss_config_init(vlmrl_policy_loss_config* cfg, int64_t n_rows, int64_t row_len);

/* Sums over this call's valid tokens; add them up over micro-batches, then divide. */
typedef struct vlmrl_policy_loss_result {
    double loss;              /* pg_loss + kl_beta * kl_loss - entropy_coef * entropy_loss */
    double pg_loss;           /* aggregated clipped policy loss (this call's share) */
    double kl_loss;           /* aggregated KL term before beta (0 when off) */
    double entropy_loss;      /* aggregated entropy (0 without the entropy input) */
    int64_t n_valid;          /* valid tokens used */
    int64_t n_clip_upper;     /* A > 0 and rho > 1 + eps_high (gradient zeroed by the upper bound) */
    int64_t n_clip_lower;     /* A < 0 and rho < 1 - eps_low */
    int64_t n_dual_clip;      /* dual clip active (A < 0 and rho > c) */
    /* Clip counts by advantage sign and size (large: |A| >= adv_size_split), so that the clip
     * fraction of each class is a count over the class's own tokens. */
    int64_t n_adv_pos;        /* valid tokens with A > 0 */
    int64_t n_adv_neg;        /* valid tokens with A < 0 */
    int64_t n_adv_pos_large;  /* of those with A > 0, the large ones */
    int64_t n_adv_neg_large;  /* of those with A < 0, the large ones */
    int64_t n_clip_upper_adv_large; /* upper clips among the large A > 0 tokens */
    int64_t n_clip_lower_adv_large; /* lower clips among the large A < 0 tokens */
    double sum_ppo_kl;        /* sum of (old - logp) */
    double sum_kl;            /* sum of lambda * k (unweighted by aggregation) */
    double sum_eps_high;      /* sum of eps_high */
    double sum_ratio;         /* sum of rho */
    double sum_entropy;       /* sum of H (0 without the entropy input) */
    int64_t nonfinite_count;  /* valid tokens with a non-finite input */
    int64_t first_nonfinite;  /* smallest flat token index i * row_len + t with one, -1 if none */
    int32_t first_nonfinite_input; /* VLMRL_INPUT_* of that token's first bad input, -1 if none */
} vlmrl_policy_loss_result;

/*
 * logp, old:   [B, T] float
 * adv:         [B] or [B, T] float
 * mask:        [B, T] uint8 (0 / 1)
 * ref:         [B, T] float, required when kl_mode != NONE, else ignored (may be NULL)
 * kl_weight:   [B] float per-response lambda (DADS), or NULL for 1
 * entropy:     [B, T] float token entropies, or NULL (then no entropy bonus and no grad_entropy)
 * grad_logp:   [B, T] float out: d loss / d logp (0 at masked tokens)
 * grad_entropy:[B, T] float out, or NULL
 * result:      out
 */
int vlmrl_policy_loss_cpu(const vlmrl_policy_loss_config* cfg,
                          const float* logp, const float* old, const float* adv,
                          const uint8_t* mask, const float* ref, const float* kl_weight,
                          const float* entropy,
                          float* grad_logp, float* grad_entropy,
                          vlmrl_policy_loss_result* result);

/* CUDA variant: tensors are device pointers, `result` is host memory, `stream` a cudaStream_t
 * (NULL = default stream); the call synchronizes the stream to fill `result`. */
int vlmrl_policy_loss_cuda(const vlmrl_policy_loss_config* cfg,
                           const float* logp, const float* old, const float* adv,
                           const uint8_t* mask, const float* ref, const float* kl_weight,
                           const float* entropy,
                           float* grad_logp, float* grad_entropy,
                           vlmrl_policy_loss_result* result, void* stream);

/* Memory-bandwidth reference: a[i] = b[i] + s * c[i] (STREAM triad), OpenMP. Used by benchmarks. */
void vlmrl_stream_triad_cpu(float* a, const float* b, const float* c, float s, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_POLICY_LOSS_H */
