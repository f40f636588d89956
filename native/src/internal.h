/* Internal helpers shared by the CPU and CUDA kernel sources (not part of the C interface). */
#ifndef VLMRL_INTERNAL_H
#define VLMRL_INTERNAL_H

#include "vlmrl/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records a printf-style message for vlmrl_last_error() on this thread and returns `code`. */
int vlmrl_set_error(int code, const char* fmt, ...);

/* Clears this thread's last error message. */
void vlmrl_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_INTERNAL_H */
