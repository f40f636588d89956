/*
 * A minimal test harness for the native tests (no external framework).
 *
 * A test executable lists its cases and calls run_cases(argc, argv, cases):
 * with a case name as argument it runs that case (how CTest calls it), without
 * arguments it runs them all. Each case prints one summary line; the exit code
 * is non-zero when any check failed.
 */
#ifndef VLMRL_TEST_SUPPORT_H
#define VLMRL_TEST_SUPPORT_H

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace vt {

struct State {
    int64_t checks = 0;
    int64_t failures = 0;
};

inline State& state() {
    static State s;
    return s;
}

/* Records one check; prints the first few failures of a case with their message. */
inline bool check(bool ok, const char* file, int line, const char* fmt, ...) {
    State& s = state();
    ++s.checks;
    if (ok) return true;
    if (++s.failures <= 12) {
        std::fprintf(stderr, "  %s:%d: ", file, line);
        va_list args;
        va_start(args, fmt);
        std::vfprintf(stderr, fmt, args);
        va_end(args);
        std::fprintf(stderr, "\n");
    }
    return false;
}

inline bool close_enough(double actual, double expected, double rtol, double atol) {
    if (std::isnan(expected)) return std::isnan(actual);
    if (std::isinf(expected)) return actual == expected;
    return std::fabs(actual - expected) <= atol + rtol * std::fabs(expected);
}

/* Identical bits, so NaNs of the same payload compare equal (for determinism checks). */
template <typename T>
bool same_bits(const T& a, const T& b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

struct Case {
    const char* name;
    void (*run)();
};

inline int run_cases(int argc, char** argv, const char* suite, const std::vector<Case>& cases) {
    int failed_cases = 0, ran = 0;
    for (const Case& c : cases) {
        if (argc > 1 && std::strcmp(argv[1], c.name) != 0) continue;
        ++ran;
        state() = State{};
        c.run();
        const State& s = state();
        std::printf("%s %s.%s (%lld checks, %lld failed)\n", s.failures == 0 && s.checks > 0 ? "PASS" : "FAIL",
                    suite, c.name, static_cast<long long>(s.checks), static_cast<long long>(s.failures));
        if (s.failures != 0 || s.checks == 0) ++failed_cases;
    }
    if (ran == 0) {
        std::fprintf(stderr, "%s: no case named '%s'\n", suite, argc > 1 ? argv[1] : "");
        return 2;
    }
    return failed_cases == 0 ? 0 : 1;
}

/* Deterministic random inputs. */
class Random {
public:
    explicit Random(uint64_t seed) : engine_(seed) {}
    double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(engine_); }
    double normal(double mean, double stddev) { return std::normal_distribution<double>(mean, stddev)(engine_); }
    int64_t integer(int64_t lo, int64_t hi_inclusive) {
        return std::uniform_int_distribution<int64_t>(lo, hi_inclusive)(engine_);
    }
    bool chance(double p) { return uniform(0.0, 1.0) < p; }

private:
    std::mt19937_64 engine_;
};

}  // namespace vt

#define CHECK(cond) vt::check((cond), __FILE__, __LINE__, "CHECK(%s) failed", #cond)

#define CHECK_CLOSE(actual, expected, rtol, atol)                                                       \
    do {                                                                                                \
        const double vt_a_ = static_cast<double>(actual), vt_e_ = static_cast<double>(expected);        \
        vt::check(vt::close_enough(vt_a_, vt_e_, (rtol), (atol)), __FILE__, __LINE__,                  \
                  "%s = %.9g, expected %s = %.9g (rtol %g, atol %g)", #actual, vt_a_, #expected, vt_e_, \
                  static_cast<double>(rtol), static_cast<double>(atol));                                \
    } while (0)

/* Like CHECK_CLOSE for element `index` of arrays, naming the index on failure. */
#define CHECK_CLOSE_AT(what, index, actual, expected, rtol, atol)                                  \
    do {                                                                                           \
        const double vt_a_ = static_cast<double>(actual), vt_e_ = static_cast<double>(expected);   \
        vt::check(vt::close_enough(vt_a_, vt_e_, (rtol), (atol)), __FILE__, __LINE__,             \
                  "%s[%lld] = %.9g, expected %.9g (rtol %g, atol %g)", what,                       \
                  static_cast<long long>(index), vt_a_, vt_e_, static_cast<double>(rtol),          \
                  static_cast<double>(atol));                                                      \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                                                   \
    do {                                                                                                 \
        const long long vt_a_ = static_cast<long long>(actual), vt_e_ = static_cast<long long>(expected); \
        vt::check(vt_a_ == vt_e_, __FILE__, __LINE__, "%s = %lld, expected %lld", #actual, vt_a_, vt_e_);   \
    } while (0)

#endif /* VLMRL_TEST_SUPPORT_H */
