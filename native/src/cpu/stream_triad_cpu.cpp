// STREAM triad: the memory-bandwidth yardstick the policy-loss benchmark is compared with.
#include "vlmrl/policy_loss.h"

extern "C" void vlmrl_stream_triad_cpu(float* a, const float* b, const float* c, float s,
                                       int64_t n) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        a[i] = b[i] + s * c[i];
    }
}
