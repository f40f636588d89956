/*
 * Argument checks shared by the CPU and CUDA kernels (plain C++, compiled once into
 * the library), so both back ends reject the same inputs with the same messages.
 * Each returns VLMRL_OK, or sets the last error (prefixed with `fn_name`, the
 * public entry point being called) and returns its code.
 */
#ifndef VLMRL_VALIDATE_H
#define VLMRL_VALIDATE_H

#include <stdint.h>

#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every policy-loss config field that does not need the data. `max_exp_clamp` is the
 * largest logratio_clamp / kl_clamp the kernel's exp handles (the CPU fast exp: 80);
 * pass INFINITY where any finite clamp works. */
int vlmrl_validate_policy_loss_config(const vlmrl_policy_loss_config* cfg, const char* fn_name,
                                      float max_exp_clamp);

/* The policy-loss inputs the config requires are present (call when there are tokens). */
int vlmrl_validate_policy_loss_pointers(const vlmrl_policy_loss_config* cfg, const float* logp, const float* old,
                                        const float* adv, const uint8_t* mask, const float* ref,
                                        const float* entropy, const float* grad_logp, const char* fn_name);

/* denom (and kl_denom when KL is on) are finite and > 0 once there are `total_valid` > 0 tokens. */
int vlmrl_validate_policy_loss_denoms(const vlmrl_policy_loss_config* cfg, int64_t total_valid,
                                      const char* fn_name);

/* Every token-log-probs config field (cfg may be NULL: that is reported too). */
int vlmrl_validate_token_logprobs_config(const vlmrl_token_logprobs_config* cfg, const char* fn_name);

/* The forward's inputs and outputs are present (call when n_rows > 0). */
int vlmrl_validate_token_logprobs_forward_pointers(const void* logits, const int64_t* targets, const float* logp,
                                                   const float* lse, const char* fn_name);

/* The backward's inputs and output are present (call when n_rows > 0). */
int vlmrl_validate_token_logprobs_backward_pointers(const void* logits, const int64_t* targets, const float* lse,
                                                    const float* entropy, const float* grad_entropy,
                                                    const void* grad_logits, const char* fn_name);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_VALIDATE_H */
