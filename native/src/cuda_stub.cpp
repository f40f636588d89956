// CPU-only builds: the CUDA entry points exist (so the Java binding links the same
// symbols everywhere) but report that CUDA is not compiled in.
#include "internal.h"
#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

namespace {
int cuda_unavailable(const char* function) {
    return vlmrl_set_error(VLMRL_ERR_CUDA,
                           "%s: this vlmrl native library was built without CUDA "
                           "(nvcc not found at build time, or VLMRL_CUDA=OFF); use the CPU kernels",
                           function);
}
}  // namespace

extern "C" int vlmrl_cuda_compiled(void) { return 0; }

extern "C" int vlmrl_cuda_device_count(void) { return 0; }

extern "C" int vlmrl_token_logprobs_forward_cuda(const vlmrl_token_logprobs_config*, const void*,
                                                 const int64_t*, float*, float*, float*,
                                                 vlmrl_token_logprobs_result*, void*) {
    return cuda_unavailable("vlmrl_token_logprobs_forward_cuda");
}

extern "C" int vlmrl_token_logprobs_backward_cuda(const vlmrl_token_logprobs_config*, const void*,
                                                  const int64_t*, const float*, const float*,
                                                  const float*, const float*, void*, void*) {
    return cuda_unavailable("vlmrl_token_logprobs_backward_cuda");
}

extern "C" int vlmrl_policy_loss_cuda(const vlmrl_policy_loss_config*, const float*, const float*,
                                      const float*, const uint8_t*, const float*, const float*,
                                      const float*, float*, float*, vlmrl_policy_loss_result*,
                                      void*) {
    return cuda_unavailable("vlmrl_policy_loss_cuda");
}
