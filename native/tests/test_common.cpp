// Error reporting and the CUDA availability entry points.
#include <cstring>
#include <string>
#include <thread>

#include "test_support.h"
#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

namespace {

vlmrl_token_logprobs_config config_with_vocab(int64_t vocab) {
    vlmrl_token_logprobs_config cfg{};
    cfg.n_rows = 0;
    cfg.vocab = vocab;
    cfg.row_stride = vocab > 0 ? vocab : 1;
    cfg.temperature = 1.0f;
    cfg.dtype = VLMRL_DTYPE_F32;
    cfg.nonfinite_policy = VLMRL_NONFINITE_ERROR;
    return cfg;
}

int forward_empty(int64_t vocab) {
    const vlmrl_token_logprobs_config cfg = config_with_vocab(vocab);
    vlmrl_token_logprobs_result result;
    return vlmrl_token_logprobs_forward_cpu(&cfg, nullptr, nullptr, nullptr, nullptr, nullptr, &result);
}

void last_error_is_per_thread() {
    CHECK_EQ_INT(forward_empty(0), VLMRL_ERR_BAD_CONFIG);
    const std::string main_message = vlmrl_last_error();
    CHECK(main_message.find("vocab") != std::string::npos);

    std::string other_before, other_after;
    std::thread other([&] {
        other_before = vlmrl_last_error();
        forward_empty(-5);
        other_after = vlmrl_last_error();
    });
    other.join();
    CHECK(other_before.empty());
    CHECK(other_after.find("got -5") != std::string::npos);
    CHECK(main_message == vlmrl_last_error());

    // A successful call clears the previous message.
    CHECK_EQ_INT(forward_empty(10), VLMRL_OK);
    CHECK(std::strlen(vlmrl_last_error()) == 0);
}

void cuda_entry_points_report_their_state() {
    const int compiled = vlmrl_cuda_compiled();
    CHECK(compiled == 0 || compiled == 1);
    CHECK(vlmrl_cuda_device_count() >= 0);
    if (compiled) return;  // the CUDA build's behaviour is covered by test_cuda_vs_cpu

    CHECK_EQ_INT(vlmrl_cuda_device_count(), 0);
    const vlmrl_token_logprobs_config cfg = config_with_vocab(4);
    vlmrl_token_logprobs_result result;
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cuda(&cfg, nullptr, nullptr, nullptr, nullptr, nullptr, &result,
                                                   nullptr),
                 VLMRL_ERR_CUDA);
    CHECK(std::strstr(vlmrl_last_error(), "without CUDA") != nullptr);
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cuda(&cfg, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                    nullptr, nullptr),
                 VLMRL_ERR_CUDA);
    vlmrl_policy_loss_config loss_cfg{};
    vlmrl_policy_loss_result loss_result;
    CHECK_EQ_INT(vlmrl_policy_loss_cuda(&loss_cfg, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr, nullptr, &loss_result, nullptr),
                 VLMRL_ERR_CUDA);
    CHECK(std::strstr(vlmrl_last_error(), "vlmrl_policy_loss_cuda") != nullptr);
}

}  // namespace

int main(int argc, char** argv) {
    return vt::run_cases(argc, argv, "test_common",
                         {{"last_error_is_per_thread", last_error_is_per_thread},
                          {"cuda_entry_points_report_their_state", cuda_entry_points_report_their_state}});
}
