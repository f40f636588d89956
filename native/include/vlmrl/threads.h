/*
 * vlmrl native helpers: the thread count of the BLAS library LibTorch's matrix products run on.
 *
 * LibTorch's at::set_num_threads sets its OpenMP pool but not OpenBLAS's own pthread pool, which
 * starts with one thread per core and busy-waits between calls. Two data-parallel ranks of one
 * thread each on a 2-core machine then run four spinning threads and every step slows down
 * several times. The Java bindings load OpenBLAS privately (not into the global symbol scope), so
 * this function finds the copies already in the process by name.
 */
#ifndef VLMRL_THREADS_H
#define VLMRL_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sets `threads` (>= 1) on every OpenBLAS library loaded in this process. Returns how many were
 * found and set: 0 when none is loaded (a LibTorch built on MKL or another BLAS), -1 with the
 * reason in vlmrl_last_error() for a bad argument.
 */
int vlmrl_set_blas_threads(int threads);

/* The thread count of the first OpenBLAS loaded in this process, or 0 when none is loaded. */
int vlmrl_blas_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_THREADS_H */
