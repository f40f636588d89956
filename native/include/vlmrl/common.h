/*
 * vlmrl native kernels: shared C types.
 *
 * Every kernel has a plain C interface (raw pointers, sizes, a config struct and,
 * for CUDA, a stream) so the kernels build and test without LibTorch and bind to
 * Java through JavaCPP. The CPU and CUDA variants of an op share one config and
 * one result struct and must agree to float rounding.
 */
#ifndef VLMRL_COMMON_H
#define VLMRL_COMMON_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of every kernel entry point. */
#define VLMRL_OK 0
#define VLMRL_ERR_BAD_CONFIG 1   /* a config field is out of range (message via vlmrl_last_error) */
#define VLMRL_ERR_NULL_POINTER 2 /* a required pointer is null */
#define VLMRL_ERR_CUDA 3         /* a CUDA runtime call failed, or CUDA is not compiled in */

/* Element types of logits. */
#define VLMRL_DTYPE_F32 0
#define VLMRL_DTYPE_BF16 1

/* What a kernel does when it finds a non-finite value in a valid (mask = 1) input. */
#define VLMRL_NONFINITE_ERROR 0 /* report the first bad index; the caller raises an error */
#define VLMRL_NONFINITE_MASK 1  /* treat the token as masked out (loss and gradient 0) and count it */

/* Human-readable message for the last error on this thread ("" if none). */
const char* vlmrl_last_error(void);

/* 1 when this build contains the CUDA kernels, 0 for a CPU-only build. */
int vlmrl_cuda_compiled(void);

/* Number of CUDA devices visible (0 without a GPU, a driver or a CUDA build). */
int vlmrl_cuda_device_count(void);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_COMMON_H */
