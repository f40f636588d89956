// Micro-benchmark (not a test): the fused policy loss at 4M tokens against the STREAM
// triad, both in GB/s of array traffic (bytes of every array read plus every array
// written, as STREAM counts), best of `repeats` calls as STREAM reports. The
// `logprobs` mode times the token log-prob kernel on bf16 logits (256 x 151936).
// Usage: bench_policy_loss [rows] [row_len] [repeats] [all|ppo|grpo|triad|logprobs]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/* Best of `repeats` timed calls after one warm-up call (the least disturbed by other load). */
template <typename F>
double best_seconds(int repeats, F&& f) {
    f();
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        times.push_back(seconds_since(start));
    }
    std::sort(times.begin(), times.end());
    return times.front();
}

}  // namespace

int main(int argc, char** argv) {
    const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 1024;
    const int64_t len = argc > 2 ? std::atoll(argv[2]) : 4096;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 20;
    const std::string only = argc > 4 ? argv[4] : "all";
    auto runs = [&](const char* what) { return only == "all" || only == what; };
    const int64_t n = rows * len;

    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int64_t> length(len / 4, len);
    std::vector<float> logp(n), old(n), ref(n), entropy(n), adv(rows), kl_weight(rows, 0.8f);
    std::vector<float> grad_logp(n), grad_entropy(n);
    std::vector<uint8_t> mask(n);
    int64_t valid = 0;
    for (int64_t i = 0; i < rows; ++i) {
        adv[i] = normal(rng);
        const int64_t l = length(rng);
        for (int64_t t = 0; t < len; ++t) {
            const int64_t k = i * len + t;
            logp[k] = -std::abs(normal(rng)) * 2.0f;
            old[k] = logp[k] + 0.3f * normal(rng);
            ref[k] = logp[k] + 0.3f * normal(rng);
            entropy[k] = std::abs(normal(rng));
            mask[k] = t < l ? 1 : 0;
            valid += mask[k];
        }
    }

    vlmrl_policy_loss_config cfg;
    vlmrl_policy_loss_config_init(&cfg, rows, len);
    cfg.denom = static_cast<double>(valid);
    cfg.kl_denom = static_cast<double>(rows);

    if (only != "logprobs")
        std::printf("policy loss: %lld x %lld = %lld tokens (%lld valid), %d OpenMP threads, best of %d\n",
                    static_cast<long long>(rows), static_cast<long long>(len), static_cast<long long>(n),
                    static_cast<long long>(valid), omp_get_max_threads(), repeats);
    vlmrl_policy_loss_result result;

    double ppo_gbs = 0, grpo_gbs = 0, triad_gbs = 0;
    if (runs("ppo")) {  // PPO / DAPO shape: logp, old, mask in; grad_logp out.
        const double t = best_seconds(repeats, [&] {
            vlmrl_policy_loss_cpu(&cfg, logp.data(), old.data(), adv.data(), mask.data(), nullptr, nullptr, nullptr,
                                  grad_logp.data(), nullptr, &result);
        });
        ppo_gbs = static_cast<double>(n) * (4 + 4 + 1 + 4) / t * 1e-9;
        std::printf("  ppo  (no KL, no entropy)          %8.3f ms  %7.2f GB/s\n", t * 1e3, ppo_gbs);
    }
    if (runs("grpo")) {  // GRPO / APO shape: + ref, kl_weight (k3), entropy in and grad_entropy out.
        cfg.kl_mode = VLMRL_KL_K3;
        cfg.kl_beta = 1e-3f;
        cfg.kl_agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
        cfg.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
        cfg.denom = static_cast<double>(rows);
        cfg.entropy_coef = 1e-3f;
        cfg.dual_clip = 1;
        const double t = best_seconds(repeats, [&] {
            vlmrl_policy_loss_cpu(&cfg, logp.data(), old.data(), adv.data(), mask.data(), ref.data(),
                                  kl_weight.data(), entropy.data(), grad_logp.data(), grad_entropy.data(), &result);
        });
        grpo_gbs = static_cast<double>(n) * (4 + 4 + 1 + 4 + 4 + 4 + 4) / t * 1e-9;
        std::printf("  grpo (k3, entropy, dual clip)     %8.3f ms  %7.2f GB/s\n", t * 1e3, grpo_gbs);
    }
    if (runs("triad")) {  // STREAM triad over arrays well beyond the caches.
        const int64_t triad_n = std::max<int64_t>(n, 32 << 20);
        std::vector<float> a(triad_n), b(triad_n, 1.0f), c(triad_n, 2.0f);
        const double t = best_seconds(repeats, [&] { vlmrl_stream_triad_cpu(a.data(), b.data(), c.data(), 3.0f, triad_n); });
        triad_gbs = static_cast<double>(triad_n) * 12 / t * 1e-9;
        std::printf("  stream triad (%lld floats)     %8.3f ms  %7.2f GB/s\n", static_cast<long long>(triad_n), t * 1e3,
                    triad_gbs);
    }
    if (only == "logprobs") {  // forward, then backward in place, on bf16 logits
        vlmrl_token_logprobs_config lcfg{};
        lcfg.n_rows = 256;
        lcfg.vocab = 151936;
        lcfg.row_stride = lcfg.vocab;
        lcfg.temperature = 1.0f;
        lcfg.dtype = VLMRL_DTYPE_BF16;
        lcfg.nonfinite_policy = VLMRL_NONFINITE_ERROR;
        const int64_t cells = lcfg.n_rows * lcfg.vocab;
        std::vector<uint16_t> logits(cells);
        for (int64_t i = 0; i < cells; ++i) logits[i] = static_cast<uint16_t>(0x3F80 + (i * 7919) % 1024 - 512);
        std::vector<int64_t> targets(lcfg.n_rows, 5);
        std::vector<float> lp(lcfg.n_rows), ent(lcfg.n_rows), lse(lcfg.n_rows), g(lcfg.n_rows, 1.0f);
        vlmrl_token_logprobs_result lresult;
        const double t_fwd = best_seconds(repeats, [&] {
            vlmrl_token_logprobs_forward_cpu(&lcfg, logits.data(), targets.data(), lp.data(), ent.data(), lse.data(),
                                             &lresult);
        });
        std::vector<uint16_t> grad(cells);
        const double t_bwd = best_seconds(repeats, [&] {
            vlmrl_token_logprobs_backward_cpu(&lcfg, logits.data(), targets.data(), lse.data(), ent.data(), g.data(),
                                              g.data(), grad.data());
        });
        std::printf("  token log-probs forward  (bf16 %lld x %lld)  %8.3f ms  %7.2f GB/s\n",
                    static_cast<long long>(lcfg.n_rows), static_cast<long long>(lcfg.vocab), t_fwd * 1e3,
                    cells * 2.0 / t_fwd * 1e-9);
        std::printf("  token log-probs backward (bf16, read + write)  %8.3f ms  %7.2f GB/s\n", t_bwd * 1e3,
                    cells * 4.0 / t_bwd * 1e-9);
    }
    if (only == "all")
        std::printf("  ppo at %.0f%% of triad, grpo at %.0f%% of triad\n", 100.0 * ppo_gbs / triad_gbs,
                    100.0 * grpo_gbs / triad_gbs);
    return 0;
}
