/*
 * Token log-probabilities and entropy from logits, fused (docs/algorithms.md,
 * "Token log-probs and entropy from logits").
 *
 *   logp[n] = z[n, y_n] - logsumexp(z[n, :]),  z = logits / T
 *   H[n]    = -sum_v p_v log p_v,             p = softmax(z[n, :])
 *
 * Forward makes one streaming pass over each row's vocabulary (online max and
 * sum): no [N, V] temporary. It saves lse[n] = logsumexp(z[n, :]) for backward.
 *
 * Backward writes
 *   d/dlogits[n, v] = (g_logp[n] * (onehot(y_n)_v - p_v) - g_H[n] * p_v * (log p_v + H[n])) / T
 * into grad_logits, which may alias logits (in place; saves one [N, V] buffer).
 */
#ifndef VLMRL_TOKEN_LOGPROBS_H
#define VLMRL_TOKEN_LOGPROBS_H

#include "vlmrl/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vlmrl_token_logprobs_config {
    int64_t n_rows;        /* N: tokens (rows of logits) */
    int64_t vocab;         /* V: columns used per row */
    int64_t row_stride;    /* elements between consecutive rows of logits and grad_logits (>= vocab) */
    float temperature;     /* T > 0 */
    int32_t dtype;         /* VLMRL_DTYPE_F32 or VLMRL_DTYPE_BF16: element type of logits and grad_logits */
    int32_t nonfinite_policy; /* VLMRL_NONFINITE_ERROR or VLMRL_NONFINITE_MASK */
} vlmrl_token_logprobs_config;

typedef struct vlmrl_token_logprobs_result {
    int64_t nonfinite_count;   /* rows whose logits or target logit were NaN/+Inf (-Inf logits are allowed) */
    int64_t first_nonfinite;   /* smallest such row index, -1 if none */
} vlmrl_token_logprobs_result;

/*
 * logits:  [n_rows, row_stride] of dtype (only the first `vocab` columns are read)
 * targets: [n_rows] token ids in [0, vocab); an id out of range is a VLMRL_ERR_BAD_CONFIG
 * logp:    [n_rows] out
 * entropy: [n_rows] out, or NULL to skip the entropy
 * lse:     [n_rows] out, the saved logsumexp of logits / T (needed by backward)
 * A row found non-finite gets logp = entropy = 0 and lse = NaN (backward writes zeros there).
 */
int vlmrl_token_logprobs_forward_cpu(const vlmrl_token_logprobs_config* cfg,
                                     const void* logits, const int64_t* targets,
                                     float* logp, float* entropy, float* lse,
                                     vlmrl_token_logprobs_result* result);

/*
 * grad_logp:    [n_rows] or NULL (treated as 0)
 * grad_entropy: [n_rows] or NULL (treated as 0); when non-NULL, entropy must be the forward's output
 * grad_logits:  [n_rows, row_stride] of dtype, out; may equal logits
 */
int vlmrl_token_logprobs_backward_cpu(const vlmrl_token_logprobs_config* cfg,
                                      const void* logits, const int64_t* targets,
                                      const float* lse, const float* entropy,
                                      const float* grad_logp, const float* grad_entropy,
                                      void* grad_logits);

/* CUDA variants: all pointers are device pointers; `stream` is a cudaStream_t (NULL = default stream).
 * The result struct is host memory; the forward synchronizes the stream to fill it. */
int vlmrl_token_logprobs_forward_cuda(const vlmrl_token_logprobs_config* cfg,
                                      const void* logits, const int64_t* targets,
                                      float* logp, float* entropy, float* lse,
                                      vlmrl_token_logprobs_result* result, void* stream);

int vlmrl_token_logprobs_backward_cuda(const vlmrl_token_logprobs_config* cfg,
                                       const void* logits, const int64_t* targets,
                                       const float* lse, const float* entropy,
                                       const float* grad_logp, const float* grad_entropy,
                                       void* grad_logits, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_TOKEN_LOGPROBS_H */
