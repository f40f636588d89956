/*
 * Scalar math helpers for the CPU kernels, written with plain arithmetic and
 * selects so that loops calling them auto-vectorise (glibc's expf / erfcf are
 * calls the compiler cannot vectorise without -ffast-math).
 */
#ifndef VLMRL_CPU_MATH_H
#define VLMRL_CPU_MATH_H

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace vlmrl {
namespace cpu {

inline uint32_t float_bits(float x) {
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
}

inline float bits_to_float(uint32_t u) {
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

/* bf16 is the upper half of an IEEE fp32. */
inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

/* Round to nearest even; NaN stays a (quiet) NaN. */
inline uint16_t float_to_bf16(float x) {
    const uint32_t u = float_bits(x);
    const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet_nan = (u >> 16) | 0x0040u;
    return static_cast<uint16_t>(x != x ? quiet_nan : rounded);
}

/* min / max as selects: vectorise to one instruction each (std::fmin / fmax are libm calls
 * with NaN rules the kernels do not need, as they sanitise their inputs first). */
inline float min_f(float a, float b) { return b < a ? b : a; }
inline float max_f(float a, float b) { return b > a ? b : a; }
inline float clamp_f(float x, float lo, float hi) { return min_f(max_f(x, lo), hi); }

/* False for NaN and +-Inf. */
inline bool is_finite(float x) { return std::fabs(x) <= FLT_MAX; }

/*
 * e^x to about 1 ulp for x in [-87.33, 88.37] (Cephes expf: Cody-Waite reduction
 * x = n ln2 + r, degree-5 polynomial for e^r, 2^n from the exponent bits). Outside
 * that range the result is garbage: callers clamp x first (see fast_exp).
 */
inline float fast_exp_in_range(float x) {
    // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick (no call to rint).
    const float kRoundMagic = 12582912.0f;
    float n = x * 1.44269504088896341f + kRoundMagic;
    const int32_t ni = static_cast<int32_t>(float_bits(n)) - static_cast<int32_t>(float_bits(kRoundMagic));
    n -= kRoundMagic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    return p * bits_to_float(static_cast<uint32_t>(ni + 127) << 23);
}

constexpr float kFastExpMin = -87.33654f;
constexpr float kFastExpMax = 88.37626f;

/* e^x for any x: below -87.33 gives 0, above 88.37 gives +Inf, NaN gives NaN. */
inline float fast_exp(float x) {
    float result = fast_exp_in_range(clamp_f(x, kFastExpMin, kFastExpMax));  // NaN passes clamp_f
    result = x < kFastExpMin ? 0.0f : result;
    result = x > kFastExpMax ? INFINITY : result;
    return x != x ? x : result;
}

/*
 * e^x for x <= 88.37 that is not NaN (callers that know an upper bound, e.g. x = z - max(z)
 * or log p): 0 below -87.33, as fast_exp, with fewer selects.
 */
inline float fast_exp_bounded_above(float x) {
    const float result = fast_exp_in_range(max_f(x, kFastExpMin));
    return x < kFastExpMin ? 0.0f : result;
}

/*
 * Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, with the Chebyshev-fitted
 * erfc of Numerical Recipes (fractional error < 1.2e-7), evaluated in float.
 */
inline float normal_cdf(float x) {
    const float y = -x * 0.70710678118654752f;  // Phi(x) = erfc(y) / 2
    const float z = std::fabs(y);
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float erfc_z = t * fast_exp(-z * z + p);
    const float erfc_y = y >= 0.0f ? erfc_z : 2.0f - erfc_z;
    return 0.5f * erfc_y;
}

}  // namespace cpu
}  // namespace vlmrl

#endif /* VLMRL_CPU_MATH_H */
