// Micro-benchmark (not a test): the token log-prob kernel as the trainer runs it on fp32
// logits, forward then backward written over the logits (in place), against the STREAM triad
// in the same process; best of `repeats` calls (the least disturbed by other load). Bytes as
// benchmarks/README.md counts them: forward reads the logits (4 N V), the in-place backward
// reads and writes them (8 N V). For perf: `perf record -g bench_token_logprobs 2048 32768 50 fwd`.
// Usage: bench_token_logprobs [rows] [vocab] [repeats] [all|fwd|bwd|triad]
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

template <typename F>
double best_seconds(int repeats, F&& f) {
    f();
    double best = 1e30;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best = std::min(best, seconds_since(start));
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 2048;
    const int64_t vocab = argc > 2 ? std::atoll(argv[2]) : 32768;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 10;
    const std::string only = argc > 4 ? argv[4] : "all";
    auto runs = [&](const char* what) { return only == "all" || only == what; };
    const int64_t cells = rows * vocab;

    vlmrl_token_logprobs_config cfg{};
    cfg.n_rows = rows;
    cfg.vocab = vocab;
    cfg.row_stride = vocab;
    cfg.temperature = 1.0f;
    cfg.dtype = VLMRL_DTYPE_F32;
    cfg.nonfinite_policy = VLMRL_NONFINITE_ERROR;

    std::vector<float> logits(cells), work(cells);
    std::mt19937_64 rng(1);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (int64_t i = 0; i < cells; ++i) logits[i] = normal(rng);
    std::vector<int64_t> targets(rows);
    for (int64_t r = 0; r < rows; ++r) targets[r] = (r * 7919) % vocab;
    std::vector<float> lp(rows), ent(rows), lse(rows), g_logp(rows, 1e-3f), g_ent(rows, 1e-4f);
    vlmrl_token_logprobs_result result;
    std::printf("token log-probs fp32 %lld x %lld, %d OpenMP threads, best of %d\n", static_cast<long long>(rows),
                static_cast<long long>(vocab), omp_get_max_threads(), repeats);

    double fwd = 0, bwd = 0, triad = 0;
    if (runs("fwd")) {
        fwd = best_seconds(repeats, [&] {
            vlmrl_token_logprobs_forward_cpu(&cfg, logits.data(), targets.data(), lp.data(), ent.data(), lse.data(),
                                             &result);
        });
        std::printf("  forward                 %8.3f ms  %7.2f GB/s\n", fwd * 1e3, cells * 4.0 / fwd * 1e-9);
    }
    if (runs("bwd")) {
        vlmrl_token_logprobs_forward_cpu(&cfg, logits.data(), targets.data(), lp.data(), ent.data(), lse.data(),
                                         &result);
        // In place: each call overwrites `work`; the values (gradients of gradients) stay finite and
        // the traffic is the same as on fresh logits.
        std::copy(logits.begin(), logits.end(), work.begin());
        bwd = best_seconds(repeats, [&] {
            vlmrl_token_logprobs_backward_cpu(&cfg, work.data(), targets.data(), lse.data(), ent.data(), g_logp.data(),
                                              g_ent.data(), work.data());
        });
        std::printf("  backward in place       %8.3f ms  %7.2f GB/s\n", bwd * 1e3, cells * 8.0 / bwd * 1e-9);
    }
    if (runs("triad")) {
        const int64_t n = std::max<int64_t>(cells, 32 << 20);
        std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
        triad = best_seconds(repeats, [&] { vlmrl_stream_triad_cpu(a.data(), b.data(), c.data(), 3.0f, n); });
        std::printf("  stream triad            %8.3f ms  %7.2f GB/s\n", triad * 1e3, n * 12.0 / triad * 1e-9);
        if (fwd > 0 && bwd > 0) {
            const double gbs = cells * 12.0 / (fwd + bwd) * 1e-9;
            std::printf("  forward + backward      %8.3f ms  %7.2f GB/s = %.0f%% of the triad\n", (fwd + bwd) * 1e3, gbs,
                        100.0 * gbs / (n * 12.0 / triad * 1e-9));
        }
    }
    return 0;
}
