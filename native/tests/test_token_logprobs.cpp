// Token log-probs / entropy kernel (CPU) against a two-pass double-precision softmax.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_support.h"
#include "vlmrl/token_logprobs.h"

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

/* Round-to-nearest-even fp32 -> bf16, written independently of the kernel's helper. */
uint16_t to_bf16(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    const uint32_t lower = u & 0xFFFFu;
    uint32_t upper = u >> 16;
    if (lower > 0x8000u || (lower == 0x8000u && (upper & 1u))) ++upper;
    return static_cast<uint16_t>(upper);
}

float from_bf16(uint16_t h) {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float x;
    std::memcpy(&x, &u, 4);
    return x;
}

/* Logits of one problem; values[] holds what the kernel sees, as floats (bf16 already decoded). */
struct Problem {
    int64_t n_rows = 0, vocab = 0, stride = 0;
    float temperature = 1.0f;
    int32_t dtype = VLMRL_DTYPE_F32;
    std::vector<float> values;      // [n_rows, stride]
    std::vector<uint16_t> bf16;     // [n_rows, stride] when dtype is BF16
    std::vector<int64_t> targets;

    const void* logits() const {
        return dtype == VLMRL_DTYPE_F32 ? static_cast<const void*>(values.data())
                                        : static_cast<const void*>(bf16.data());
    }
    vlmrl_token_logprobs_config config(int32_t policy = VLMRL_NONFINITE_ERROR) const {
        vlmrl_token_logprobs_config cfg{};
        cfg.n_rows = n_rows;
        cfg.vocab = vocab;
        cfg.row_stride = stride;
        cfg.temperature = temperature;
        cfg.dtype = dtype;
        cfg.nonfinite_policy = policy;
        return cfg;
    }
};

/* Random logits; padding columns beyond vocab hold NaN so reading them would show. */
Problem make_problem(uint64_t seed, int64_t n_rows, int64_t vocab, int64_t stride, float temperature,
                     int32_t dtype, double scale = 3.0) {
    vt::Random rng(seed);
    Problem p;
    p.n_rows = n_rows;
    p.vocab = vocab;
    p.stride = stride;
    p.temperature = temperature;
    p.dtype = dtype;
    p.values.assign(static_cast<size_t>(n_rows * stride), kNaN);
    p.targets.resize(static_cast<size_t>(n_rows));
    for (int64_t n = 0; n < n_rows; ++n) {
        for (int64_t v = 0; v < vocab; ++v) p.values[n * stride + v] = static_cast<float>(rng.normal(0.0, scale));
        // A few confident rows, as a trained model has.
        if (n % 3 == 0) p.values[n * stride + rng.integer(0, vocab - 1)] += static_cast<float>(8.0 * scale);
        p.targets[n] = rng.integer(0, vocab - 1);
    }
    if (dtype == VLMRL_DTYPE_BF16) {
        p.bf16.resize(p.values.size());
        for (size_t i = 0; i < p.values.size(); ++i) {
            p.bf16[i] = to_bf16(p.values[i]);
            p.values[i] = from_bf16(p.bf16[i]);
        }
    }
    return p;
}

struct RowReference {
    double logp, entropy, lse;
    std::vector<double> prob;
};

/* Plain two-pass softmax in double. */
RowReference reference_row(const Problem& p, int64_t n) {
    const float* row = p.values.data() + n * p.stride;
    double m = -kInf;
    for (int64_t v = 0; v < p.vocab; ++v) m = std::max(m, static_cast<double>(row[v]) / p.temperature);
    double s = 0.0;
    for (int64_t v = 0; v < p.vocab; ++v) s += std::exp(static_cast<double>(row[v]) / p.temperature - m);
    RowReference r;
    r.lse = m + std::log(s);
    r.logp = static_cast<double>(row[p.targets[n]]) / p.temperature - r.lse;
    r.entropy = 0.0;
    r.prob.resize(static_cast<size_t>(p.vocab));
    for (int64_t v = 0; v < p.vocab; ++v) {
        const double log_p = static_cast<double>(row[v]) / p.temperature - r.lse;
        r.prob[v] = std::exp(log_p);
        if (r.prob[v] > 0.0) r.entropy -= r.prob[v] * log_p;
    }
    return r;
}

struct Forward {
    std::vector<float> logp, entropy, lse;
    vlmrl_token_logprobs_result result{};
    int status = -1;
};

Forward run_forward(const Problem& p, int32_t policy = VLMRL_NONFINITE_ERROR) {
    Forward f;
    f.logp.assign(static_cast<size_t>(p.n_rows), -7.0f);
    f.entropy.assign(static_cast<size_t>(p.n_rows), -7.0f);
    f.lse.assign(static_cast<size_t>(p.n_rows), -7.0f);
    const vlmrl_token_logprobs_config cfg = p.config(policy);
    f.status = vlmrl_token_logprobs_forward_cpu(&cfg, p.logits(), p.targets.data(), f.logp.data(),
                                                f.entropy.data(), f.lse.data(), &f.result);
    return f;
}

void check_forward_against_reference(const Problem& p, double atol) {
    const Forward f = run_forward(p);
    CHECK_EQ_INT(f.status, VLMRL_OK);
    CHECK_EQ_INT(f.result.nonfinite_count, 0);
    CHECK_EQ_INT(f.result.first_nonfinite, -1);
    for (int64_t n = 0; n < p.n_rows; ++n) {
        const RowReference r = reference_row(p, n);
        CHECK_CLOSE_AT("logp", n, f.logp[n], r.logp, 1e-6, atol);
        CHECK_CLOSE_AT("entropy", n, f.entropy[n], r.entropy, 1e-5, atol);
        CHECK_CLOSE_AT("lse", n, f.lse[n], r.lse, 1e-6, atol);
    }
}

void fp32_matches_reference() {
    check_forward_against_reference(make_problem(1, 37, 1000, 1000, 1.0f, VLMRL_DTYPE_F32), 2e-5);
}

void bf16_matches_reference() {
    check_forward_against_reference(make_problem(2, 29, 777, 777, 1.0f, VLMRL_DTYPE_BF16), 2e-5);
}

void temperature_and_row_stride() {
    check_forward_against_reference(make_problem(3, 21, 500, 523, 0.7f, VLMRL_DTYPE_F32), 2e-5);
    check_forward_against_reference(make_problem(4, 21, 500, 512, 1.6f, VLMRL_DTYPE_BF16), 2e-5);
}

void large_vocab_several_blocks() {
    // A rising ramp makes the row maximum grow block after block (rescaling of the
    // running sums); a falling one puts it in the first block.
    Problem p = make_problem(5, 6, 20000, 20000, 1.0f, VLMRL_DTYPE_F32, 1.0);
    for (int64_t v = 0; v < p.vocab; ++v) {
        p.values[0 * p.vocab + v] += 0.001f * static_cast<float>(v);
        p.values[1 * p.vocab + v] -= 0.001f * static_cast<float>(v);
        p.values[2 * p.vocab + v] = 40.0f * std::sin(0.001f * static_cast<float>(v));
    }
    check_forward_against_reference(p, 5e-5);
}

void neg_inf_logits_are_probability_zero() {
    Problem p = make_problem(6, 4, 300, 300, 1.0f, VLMRL_DTYPE_F32);
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (int64_t v = 0; v < p.vocab; v += 3) p.values[0 * p.vocab + v] = neg_inf;  // a third of row 0 banned
    p.targets[0] = 1;
    p.values[1 * p.vocab + p.targets[1]] = neg_inf;                               // target banned: logp = -Inf
    for (int64_t v = 0; v < p.vocab; ++v) p.values[2 * p.vocab + v] = neg_inf;  // one token left: p = 1
    p.values[2 * p.vocab + 17] = 0.5f;
    p.targets[2] = 17;
    for (int64_t v = 0; v < p.vocab; ++v) p.values[3 * p.vocab + v] = neg_inf;  // no token left at all

    const Forward f = run_forward(p);
    CHECK_EQ_INT(f.status, VLMRL_OK);
    for (int64_t n = 0; n < 2; ++n) {
        const RowReference r = reference_row(p, n);
        CHECK_CLOSE_AT("logp", n, f.logp[n], r.logp, 1e-6, 2e-5);
        CHECK_CLOSE_AT("entropy", n, f.entropy[n], r.entropy, 1e-5, 2e-5);
    }
    CHECK(std::isinf(f.logp[1]) && f.logp[1] < 0);
    CHECK_CLOSE(f.logp[2], 0.0, 0.0, 1e-7);
    CHECK_CLOSE(f.entropy[2], 0.0, 0.0, 1e-7);
    CHECK_CLOSE(f.lse[2], 0.5, 0.0, 1e-7);
    // A row with no finite logit has no distribution: reported like a NaN row.
    CHECK_EQ_INT(f.result.nonfinite_count, 1);
    CHECK_EQ_INT(f.result.first_nonfinite, 3);
    CHECK(std::isnan(f.lse[3]));

    // Backward through the banned entries is 0, not NaN.
    std::vector<float> grad(p.values.size(), 9.0f), g_logp(4, 1.0f), g_ent(4, 0.5f);
    const vlmrl_token_logprobs_config cfg = p.config();
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cpu(&cfg, p.logits(), p.targets.data(), f.lse.data(),
                                                   f.entropy.data(), g_logp.data(), g_ent.data(), grad.data()),
                 VLMRL_OK);
    for (size_t i = 0; i < grad.size(); ++i) CHECK(std::isfinite(grad[i]));
    CHECK_EQ_INT(grad[0 * p.vocab + 0], 0);
    CHECK_EQ_INT(grad[3 * p.vocab + 5], 0);
}

/* d/dlogits of sum_n g_logp[n] logp[n] + g_H[n] H[n], in double. */
std::vector<double> reference_grad(const Problem& p, const std::vector<float>& g_logp, const std::vector<float>& g_ent) {
    std::vector<double> grad(p.values.size(), 0.0);
    for (int64_t n = 0; n < p.n_rows; ++n) {
        const RowReference r = reference_row(p, n);
        for (int64_t v = 0; v < p.vocab; ++v) {
            const double prob = r.prob[v];
            const double onehot = v == p.targets[n] ? 1.0 : 0.0;
            const double log_p = static_cast<double>(p.values[n * p.stride + v]) / p.temperature - r.lse;
            const double entropy_term = prob > 0.0 ? prob * (log_p + r.entropy) : 0.0;
            const double gl = g_logp.empty() ? 0.0 : g_logp[n];
            const double gh = g_ent.empty() ? 0.0 : g_ent[n];
            grad[n * p.stride + v] = (gl * (onehot - prob) - gh * entropy_term) / p.temperature;
        }
    }
    return grad;
}

std::vector<float> random_vector(uint64_t seed, int64_t n, double scale) {
    vt::Random rng(seed);
    std::vector<float> out(static_cast<size_t>(n));
    for (float& x : out) x = static_cast<float>(rng.normal(0.0, scale));
    return out;
}

/* Runs backward out of place on float logits; grads beyond vocab must stay untouched. */
std::vector<float> run_backward(const Problem& p, const Forward& f, const std::vector<float>& g_logp,
                                const std::vector<float>& g_ent) {
    std::vector<float> grad(p.values.size(), 123.0f);
    const vlmrl_token_logprobs_config cfg = p.config();
    const int status = vlmrl_token_logprobs_backward_cpu(&cfg, p.logits(), p.targets.data(), f.lse.data(),
                                                         f.entropy.data(), g_logp.empty() ? nullptr : g_logp.data(),
                                                         g_ent.empty() ? nullptr : g_ent.data(), grad.data());
    CHECK_EQ_INT(status, VLMRL_OK);
    return grad;
}

void backward_matches_reference() {
    for (const float temperature : {1.0f, 0.6f}) {
        const Problem p = make_problem(7, 19, 3000, 3011, temperature, VLMRL_DTYPE_F32);
        const Forward f = run_forward(p);
        const std::vector<float> g_logp = random_vector(8, p.n_rows, 1.0), g_ent = random_vector(9, p.n_rows, 1.0);
        const std::vector<float> none;
        for (int variant = 0; variant < 3; ++variant) {
            const std::vector<float>& gl = variant == 1 ? none : g_logp;
            const std::vector<float>& gh = variant == 2 ? none : g_ent;
            const std::vector<float> grad = run_backward(p, f, gl, gh);
            const std::vector<double> expected = reference_grad(p, gl, gh);
            for (int64_t n = 0; n < p.n_rows; ++n) {
                // lse is saved as a float (ulp ~2e-6 at 30), so p carries that absolute error, and
                // 1 - p at a confident target loses it to cancellation: scale atol with the row.
                const double atol = 5e-6 * ((gl.empty() ? 0.0 : std::fabs(gl[n])) + (gh.empty() ? 0.0 : std::fabs(gh[n]))) /
                                    p.temperature;
                for (int64_t v = 0; v < p.stride; ++v) {
                    const int64_t i = n * p.stride + v;
                    if (v < p.vocab)
                        CHECK_CLOSE_AT("grad_logits", i, grad[i], expected[i], 2e-5, atol);
                    else
                        CHECK_EQ_INT(grad[i], 123);  // padding column untouched
                }
            }
        }
    }
}

void backward_in_place() {
    const Problem p = make_problem(10, 13, 2500, 2500, 0.9f, VLMRL_DTYPE_F32);
    const Forward f = run_forward(p);
    const std::vector<float> g_logp = random_vector(11, p.n_rows, 1.0), g_ent = random_vector(12, p.n_rows, 1.0);
    const std::vector<float> out_of_place = run_backward(p, f, g_logp, g_ent);
    std::vector<float> buffer = p.values;  // logits, overwritten by their gradient
    const vlmrl_token_logprobs_config cfg = p.config();
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cpu(&cfg, buffer.data(), p.targets.data(), f.lse.data(),
                                                   f.entropy.data(), g_logp.data(), g_ent.data(), buffer.data()),
                 VLMRL_OK);
    CHECK(vt::same_bits(buffer, out_of_place));
}

void backward_bf16_in_place() {
    const Problem p = make_problem(13, 11, 1500, 1536, 1.3f, VLMRL_DTYPE_BF16);
    const Forward f = run_forward(p);
    const std::vector<float> g_logp = random_vector(14, p.n_rows, 1.0), g_ent = random_vector(15, p.n_rows, 1.0);
    std::vector<uint16_t> buffer = p.bf16;
    const vlmrl_token_logprobs_config cfg = p.config();
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cpu(&cfg, buffer.data(), p.targets.data(), f.lse.data(),
                                                   f.entropy.data(), g_logp.data(), g_ent.data(), buffer.data()),
                 VLMRL_OK);
    const std::vector<double> expected = reference_grad(p, g_logp, g_ent);
    for (int64_t n = 0; n < p.n_rows; ++n) {
        for (int64_t v = 0; v < p.stride; ++v) {
            const int64_t i = n * p.stride + v;
            if (v < p.vocab)  // bf16 keeps 8 significant bits
                CHECK_CLOSE_AT("grad_logits", i, from_bf16(buffer[i]), expected[i], 8e-3, 1e-7);
            else
                CHECK(std::isnan(from_bf16(buffer[i])));  // padding untouched
        }
    }
}

void backward_finite_differences() {
    // Central differences of L = sum_n g_logp[n] logp[n] + g_H[n] H[n] through the forward kernel.
    Problem p = make_problem(16, 5, 40, 40, 0.8f, VLMRL_DTYPE_F32, 1.0);
    const std::vector<float> g_logp = random_vector(17, p.n_rows, 1.0), g_ent = random_vector(18, p.n_rows, 1.0);
    const Forward f = run_forward(p);
    const std::vector<float> grad = run_backward(p, f, g_logp, g_ent);
    auto objective = [&](const Problem& q) {
        const Forward g = run_forward(q);
        double total = 0.0;
        for (int64_t n = 0; n < q.n_rows; ++n) total += g_logp[n] * g.logp[n] + g_ent[n] * g.entropy[n];
        return total;
    };
    vt::Random rng(19);
    for (int trial = 0; trial < 40; ++trial) {
        const int64_t n = rng.integer(0, p.n_rows - 1);
        const int64_t v = trial % 4 == 0 ? p.targets[n] : rng.integer(0, p.vocab - 1);
        const int64_t i = n * p.stride + v;
        const float h = 1e-2f;
        const float saved = p.values[i];
        p.values[i] = saved + h;
        const double up = objective(p);
        p.values[i] = saved - h;
        const double down = objective(p);
        p.values[i] = saved;
        const double numeric = (up - down) / (2.0 * static_cast<double>(h));
        CHECK_CLOSE_AT("grad_logits vs finite difference", i, grad[i], numeric, 1e-2, 2e-4);
    }
}

void nonfinite_rows_both_policies() {
    for (const int32_t policy : {VLMRL_NONFINITE_ERROR, VLMRL_NONFINITE_MASK}) {
        for (const int32_t dtype : {VLMRL_DTYPE_F32, VLMRL_DTYPE_BF16}) {
            Problem p = make_problem(20, 9, 3000, 3000, 1.0f, VLMRL_DTYPE_F32);
            p.values[2 * p.vocab + 2500] = kNaN;                                     // NaN in a later block
            p.values[5 * p.vocab + 3] = std::numeric_limits<float>::infinity();      // +Inf
            p.values[7 * p.vocab + p.targets[7]] = kNaN;                             // NaN target logit
            p.dtype = dtype;
            if (dtype == VLMRL_DTYPE_BF16) {
                p.bf16.resize(p.values.size());
                for (size_t i = 0; i < p.values.size(); ++i) {
                    p.bf16[i] = to_bf16(p.values[i]);
                    p.values[i] = from_bf16(p.bf16[i]);
                }
            }
            const Forward f = run_forward(p, policy);
            CHECK_EQ_INT(f.status, VLMRL_OK);
            CHECK_EQ_INT(f.result.nonfinite_count, 3);
            CHECK_EQ_INT(f.result.first_nonfinite, 2);
            const std::vector<float> g_logp = random_vector(21, p.n_rows, 1.0), g_ent = random_vector(22, p.n_rows, 1.0);
            std::vector<float> grad_f32(p.values.size(), 5.0f);
            std::vector<uint16_t> grad_bf16(p.values.size(), 1);
            void* grad = dtype == VLMRL_DTYPE_F32 ? static_cast<void*>(grad_f32.data()) : grad_bf16.data();
            const vlmrl_token_logprobs_config cfg = p.config(policy);
            CHECK_EQ_INT(vlmrl_token_logprobs_backward_cpu(&cfg, p.logits(), p.targets.data(), f.lse.data(),
                                                           f.entropy.data(), g_logp.data(), g_ent.data(), grad),
                         VLMRL_OK);
            const std::vector<double> expected = reference_grad(p, g_logp, g_ent);
            for (int64_t n = 0; n < p.n_rows; ++n) {
                const bool bad = n == 2 || n == 5 || n == 7;
                if (bad) {
                    CHECK(f.logp[n] == 0.0f && f.entropy[n] == 0.0f && std::isnan(f.lse[n]));
                } else {
                    const RowReference r = reference_row(p, n);
                    CHECK_CLOSE_AT("logp", n, f.logp[n], r.logp, 1e-6, 2e-5);
                }
                for (int64_t v = 0; v < p.vocab; v += 97) {
                    const int64_t i = n * p.stride + v;
                    const double g = dtype == VLMRL_DTYPE_F32 ? grad_f32[i] : from_bf16(grad_bf16[i]);
                    if (bad)
                        CHECK_EQ_INT(g, 0);
                    else
                        CHECK_CLOSE_AT("grad_logits", i, g, expected[i], 8e-3, 1e-7);
                }
            }
        }
    }
}

void zero_rows() {
    vlmrl_token_logprobs_config cfg{};
    cfg.n_rows = 0;
    cfg.vocab = 10;
    cfg.row_stride = 10;
    cfg.temperature = 1.0f;
    vlmrl_token_logprobs_result result{7, 7};
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cpu(&cfg, nullptr, nullptr, nullptr, nullptr, nullptr, &result), VLMRL_OK);
    CHECK_EQ_INT(result.nonfinite_count, 0);
    CHECK_EQ_INT(result.first_nonfinite, -1);
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cpu(&cfg, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
                 VLMRL_OK);
}

/* Expects `status` and a message naming `field`. */
void expect_error(int status, int expected_status, const char* field) {
    CHECK_EQ_INT(status, expected_status);
    const std::string message = vlmrl_last_error();
    vt::check(message.find(field) != std::string::npos, __FILE__, __LINE__, "message '%s' does not name '%s'",
              message.c_str(), field);
}

void bad_configs_are_rejected() {
    Problem p = make_problem(23, 3, 8, 8, 1.0f, VLMRL_DTYPE_F32);
    std::vector<float> logp(3), entropy(3), lse(3), grad(p.values.size());
    vlmrl_token_logprobs_result result;
    auto forward = [&](const vlmrl_token_logprobs_config& cfg) {
        return vlmrl_token_logprobs_forward_cpu(&cfg, p.logits(), p.targets.data(), logp.data(), entropy.data(),
                                                lse.data(), &result);
    };
    auto backward = [&](const vlmrl_token_logprobs_config& cfg) {
        return vlmrl_token_logprobs_backward_cpu(&cfg, p.logits(), p.targets.data(), lse.data(), entropy.data(),
                                                 nullptr, nullptr, grad.data());
    };
    const vlmrl_token_logprobs_config good = p.config();
    CHECK_EQ_INT(forward(good), VLMRL_OK);
    CHECK_EQ_INT(backward(good), VLMRL_OK);

    vlmrl_token_logprobs_config cfg = good;
    cfg.n_rows = -1;
    expect_error(forward(cfg), VLMRL_ERR_BAD_CONFIG, "n_rows");
    cfg = good;
    cfg.vocab = 0;
    expect_error(forward(cfg), VLMRL_ERR_BAD_CONFIG, "vocab");
    cfg = good;
    cfg.row_stride = 7;
    expect_error(backward(cfg), VLMRL_ERR_BAD_CONFIG, "row_stride");
    for (const float t : {0.0f, -1.0f, kNaN, std::numeric_limits<float>::infinity()}) {
        cfg = good;
        cfg.temperature = t;
        expect_error(forward(cfg), VLMRL_ERR_BAD_CONFIG, "temperature");
    }
    cfg = good;
    cfg.dtype = 2;
    expect_error(forward(cfg), VLMRL_ERR_BAD_CONFIG, "dtype");
    cfg = good;
    cfg.nonfinite_policy = 3;
    expect_error(forward(cfg), VLMRL_ERR_BAD_CONFIG, "nonfinite_policy");

    p.targets[1] = 8;
    expect_error(forward(good), VLMRL_ERR_BAD_CONFIG, "targets[1]");
    expect_error(backward(good), VLMRL_ERR_BAD_CONFIG, "targets[1]");
    p.targets[1] = -1;
    expect_error(forward(good), VLMRL_ERR_BAD_CONFIG, "got -1");
    p.targets[1] = 0;

    expect_error(vlmrl_token_logprobs_forward_cpu(&good, p.logits(), p.targets.data(), logp.data(), entropy.data(),
                                                  nullptr, &result),
                 VLMRL_ERR_NULL_POINTER, "lse");
    expect_error(vlmrl_token_logprobs_forward_cpu(&good, p.logits(), p.targets.data(), logp.data(), entropy.data(),
                                                  lse.data(), nullptr),
                 VLMRL_ERR_NULL_POINTER, "result");
    expect_error(vlmrl_token_logprobs_backward_cpu(&good, p.logits(), p.targets.data(), lse.data(), nullptr, nullptr,
                                                   logp.data(), grad.data()),
                 VLMRL_ERR_NULL_POINTER, "entropy");
    expect_error(vlmrl_token_logprobs_forward_cpu(nullptr, p.logits(), p.targets.data(), logp.data(), entropy.data(),
                                                  lse.data(), &result),
                 VLMRL_ERR_NULL_POINTER, "cfg");
}

void deterministic_across_thread_counts() {
    const Problem p = make_problem(24, 64, 4099, 4099, 1.1f, VLMRL_DTYPE_BF16);
    const std::vector<float> g_logp = random_vector(25, p.n_rows, 1.0), g_ent = random_vector(26, p.n_rows, 1.0);
    const int saved = omp_get_max_threads();
    std::vector<Forward> forwards;
    std::vector<std::vector<uint16_t>> grads;
    for (const int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        forwards.push_back(run_forward(p));
        std::vector<uint16_t> grad(p.bf16.size());
        const vlmrl_token_logprobs_config cfg = p.config();
        CHECK_EQ_INT(vlmrl_token_logprobs_backward_cpu(&cfg, p.logits(), p.targets.data(), forwards.back().lse.data(),
                                                       forwards.back().entropy.data(), g_logp.data(), g_ent.data(),
                                                       grad.data()),
                     VLMRL_OK);
        grads.push_back(grad);
    }
    omp_set_num_threads(saved);
    for (size_t i = 1; i < forwards.size(); ++i) {
        CHECK(vt::same_bits(forwards[i].logp, forwards[0].logp));
        CHECK(vt::same_bits(forwards[i].entropy, forwards[0].entropy));
        CHECK(vt::same_bits(forwards[i].lse, forwards[0].lse));
        CHECK(vt::same_bits(grads[i], grads[0]));
    }
}

}  // namespace

int main(int argc, char** argv) {
    return vt::run_cases(argc, argv, "test_token_logprobs",
                         {{"fp32_matches_reference", fp32_matches_reference},
                          {"bf16_matches_reference", bf16_matches_reference},
                          {"temperature_and_row_stride", temperature_and_row_stride},
                          {"large_vocab_several_blocks", large_vocab_several_blocks},
                          {"neg_inf_logits_are_probability_zero", neg_inf_logits_are_probability_zero},
                          {"backward_matches_reference", backward_matches_reference},
                          {"backward_in_place", backward_in_place},
                          {"backward_bf16_in_place", backward_bf16_in_place},
                          {"backward_finite_differences", backward_finite_differences},
                          {"nonfinite_rows_both_policies", nonfinite_rows_both_policies},
                          {"zero_rows", zero_rows},
                          {"bad_configs_are_rejected", bad_configs_are_rejected},
                          {"deterministic_across_thread_counts", deterministic_across_thread_counts}});
}
