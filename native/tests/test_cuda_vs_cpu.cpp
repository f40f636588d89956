/*
 * The CUDA kernels against the CPU kernels on the same random inputs: every clip,
 * KL and aggregation mode of the policy loss, fp32 and bf16 token log-probs with
 * entropy and gradients (also in place), non-finite inputs under both policies,
 * config errors, and bitwise determinism of two identical CUDA calls.
 *
 * The CPU kernels are themselves tested against independent references
 * (test_policy_loss, test_token_logprobs); here they are the reference.
 *
 * Prints "SKIPPED: no CUDA device" and passes where no GPU is visible (CTest reports it as
 * skipped; VLMRL_REQUIRE_CUDA=1 makes it fail instead, see main). Device memory
 * is handled with the CUDA driver API loaded at run time (libcuda.so.1, present
 * wherever a GPU driver is), so this test builds like the other plain C++ tests
 * without the CUDA toolkit's headers or runtime; the kernels use the same device's
 * primary context.
 */
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_support.h"
#include "vlmrl/common.h"
#include "vlmrl/policy_loss.h"
#include "vlmrl/token_logprobs.h"

namespace {

/* ---- device memory through the driver API ---- */

class DriverApi {
public:
    using Result = int;  // CUresult; 0 is CUDA_SUCCESS
    using DevicePtr = unsigned long long;

    /* Loads libcuda and makes device 0's primary context current; false with a reason. */
    bool init(std::string* why) {
        void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) return fail(why, "cannot load libcuda.so.1");
        if (!bind(lib, "cuInit", cu_init_) || !bind(lib, "cuDeviceGet", device_get_) ||
            !bind(lib, "cuDevicePrimaryCtxRetain", ctx_retain_) || !bind(lib, "cuCtxSetCurrent", ctx_set_) ||
            !bind(lib, "cuCtxSynchronize", ctx_sync_) || !bind(lib, "cuMemAlloc_v2", mem_alloc_) ||
            !bind(lib, "cuMemFree_v2", mem_free_) || !bind(lib, "cuMemcpyHtoD_v2", copy_to_device_) ||
            !bind(lib, "cuMemcpyDtoH_v2", copy_to_host_))
            return fail(why, "libcuda lacks a driver API entry point");
        int device = 0;
        void* context = nullptr;
        if (cu_init_(0) != 0 || device_get_(&device, 0) != 0 || ctx_retain_(&context, device) != 0 ||
            ctx_set_(context) != 0)
            return fail(why, "cannot make the primary context of device 0 current");
        return true;
    }

    void* alloc(size_t bytes) const {
        DevicePtr p = 0;
        if (mem_alloc_(&p, bytes == 0 ? 1 : bytes) != 0) {
            std::fprintf(stderr, "cuMemAlloc(%zu) failed\n", bytes);
            std::abort();
        }
        return reinterpret_cast<void*>(p);
    }
    void free(void* p) const { mem_free_(reinterpret_cast<DevicePtr>(p)); }
    void to_device(void* dst, const void* src, size_t bytes) const {
        if (bytes > 0 && copy_to_device_(reinterpret_cast<DevicePtr>(dst), src, bytes) != 0) std::abort();
    }
    void to_host(void* dst, const void* src, size_t bytes) const {
        sync();  // kernels that do not synchronize (the backward) must finish first
        if (bytes > 0 && copy_to_host_(dst, reinterpret_cast<DevicePtr>(src), bytes) != 0) std::abort();
    }
    void sync() const {
        if (ctx_sync_() != 0) {
            std::fprintf(stderr, "cuCtxSynchronize failed (a kernel faulted?)\n");
            std::abort();
        }
    }

private:
    template <typename Fn>
    static bool bind(void* lib, const char* name, Fn& fn) {
        fn = reinterpret_cast<Fn>(dlsym(lib, name));
        return fn != nullptr;
    }
    static bool fail(std::string* why, const char* reason) {
        *why = reason;
        return false;
    }

    Result (*cu_init_)(unsigned) = nullptr;
    Result (*device_get_)(int*, int) = nullptr;
    Result (*ctx_retain_)(void**, int) = nullptr;
    Result (*ctx_set_)(void*) = nullptr;
    Result (*ctx_sync_)() = nullptr;
    Result (*mem_alloc_)(DevicePtr*, size_t) = nullptr;
    Result (*mem_free_)(DevicePtr) = nullptr;
    Result (*copy_to_device_)(DevicePtr, const void*, size_t) = nullptr;
    Result (*copy_to_host_)(void*, DevicePtr, size_t) = nullptr;
};

DriverApi& driver() {
    static DriverApi api;
    return api;
}

/*
 * A device copy of a host vector. `offset` elements of padding in front make the
 * pointer deliberately misaligned (exercising the kernels' scalar paths).
 */
template <typename T>
class DeviceArray {
public:
    DeviceArray() = default;
    explicit DeviceArray(const std::vector<T>& host, size_t offset = 0) { upload(host, offset); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() {
        if (base_ != nullptr) driver().free(base_);
    }
    void upload(const std::vector<T>& host, size_t offset = 0) {
        if (base_ != nullptr) driver().free(base_);
        base_ = driver().alloc((host.size() + offset) * sizeof(T));
        data_ = static_cast<T*>(base_) + offset;
        size_ = host.size();
        driver().to_device(data_, host.data(), size_ * sizeof(T));
    }
    std::vector<T> download() const {
        std::vector<T> host(size_);
        driver().to_host(host.data(), data_, size_ * sizeof(T));
        return host;
    }
    T* get() const { return data_; }

private:
    void* base_ = nullptr;
    T* data_ = nullptr;
    size_t size_ = 0;
};

/* nullptr for an empty optional input, else the device pointer. */
template <typename T>
T* or_null(bool present, const DeviceArray<T>& a) {
    return present ? a.get() : nullptr;
}

uint16_t to_bf16(float x) {
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

float from_bf16(uint16_t h) {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

/* ================= policy loss ================= */

struct LossInputs {
    int64_t n_rows = 0, row_len = 0;
    bool adv_per_token = false;
    std::vector<float> logp, old, adv, ref, kl_weight, entropy;
    std::vector<uint8_t> mask;
};

/*
 * Random responses: a valid prefix of random length per row (some rows empty) with a
 * few holes, log-ratios mostly small with a few far outside the clamp, and some
 * reference log-probs far away (KL clamps).
 */
LossInputs make_loss_inputs(vt::Random& rng, int64_t n_rows, int64_t row_len, bool adv_per_token) {
    LossInputs in;
    in.n_rows = n_rows;
    in.row_len = row_len;
    in.adv_per_token = adv_per_token;
    const size_t n = static_cast<size_t>(n_rows * row_len);
    in.logp.resize(n);
    in.old.resize(n);
    in.ref.resize(n);
    in.entropy.resize(n);
    in.mask.resize(n);
    in.adv.resize(adv_per_token ? n : static_cast<size_t>(n_rows));
    in.kl_weight.resize(static_cast<size_t>(n_rows));
    for (int64_t i = 0; i < n_rows; ++i) {
        const int64_t length = rng.chance(0.1) ? 0 : rng.integer(1, row_len);
        in.kl_weight[i] = static_cast<float>(rng.uniform(0.2, 1.0));
        if (!adv_per_token) in.adv[i] = static_cast<float>(rng.normal(0.0, 1.0));
        for (int64_t t = 0; t < row_len; ++t) {
            const size_t k = static_cast<size_t>(i * row_len + t);
            const float lp = static_cast<float>(-rng.uniform(0.01, 4.0));
            in.logp[k] = lp;
            const double lr = rng.chance(0.01) ? rng.uniform(-30.0, 30.0) : rng.normal(0.0, 0.3);
            in.old[k] = static_cast<float>(lp - lr);
            in.ref[k] = static_cast<float>(lp + (rng.chance(0.01) ? rng.uniform(-30.0, 30.0) : rng.normal(0.0, 0.5)));
            in.entropy[k] = static_cast<float>(rng.uniform(0.0, 3.0));
            in.mask[k] = (t < length && !rng.chance(0.05)) ? 1 : 0;
            if (adv_per_token) in.adv[k] = static_cast<float>(rng.normal(0.0, 1.0));
        }
    }
    return in;
}

/* What the calls get besides the config. */
struct LossOptions {
    bool ref = false, kl_weight = false, entropy = false, grad_entropy = false;
    size_t misalign = 0;  // elements of padding in front of every device array
};

vlmrl_policy_loss_config default_loss_config(const LossInputs& in) {
    vlmrl_policy_loss_config c;
    vlmrl_policy_loss_config_init(&c, in.n_rows, in.row_len);
    c.adv_per_token = in.adv_per_token ? 1 : 0;
    c.kl_beta = 0.001f;
    c.nonfinite_policy = VLMRL_NONFINITE_MASK;
    return c;
}

/* The mini-batch denominator of an aggregation mode for these inputs (docs/algorithms.md). */
double denominator(const LossInputs& in, int32_t agg_mode) {
    int64_t valid = 0, non_empty = 0;
    for (int64_t i = 0; i < in.n_rows; ++i) {
        int64_t row_valid = 0;
        for (int64_t t = 0; t < in.row_len; ++t) row_valid += in.mask[static_cast<size_t>(i * in.row_len + t)];
        valid += row_valid;
        non_empty += row_valid > 0;
    }
    switch (agg_mode) {
        case VLMRL_AGG_TOKEN_MEAN: return static_cast<double>(std::max<int64_t>(valid, 1));
        case VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM: return static_cast<double>(std::max<int64_t>(in.n_rows * in.row_len, 1));
        default: return static_cast<double>(std::max<int64_t>(non_empty, 1));
    }
}

/* AAAC statistics of the valid advantages. */
void set_adv_stats(const LossInputs& in, vlmrl_policy_loss_config& c) {
    double lo = INFINITY, hi = -INFINITY, sum = 0, sum_sq = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < in.n_rows; ++i)
        for (int64_t t = 0; t < in.row_len; ++t) {
            const size_t k = static_cast<size_t>(i * in.row_len + t);
            if (!in.mask[k]) continue;
            const double a = in.adv[in.adv_per_token ? k : static_cast<size_t>(i)];
            lo = std::min(lo, a);
            hi = std::max(hi, a);
            sum += a;
            sum_sq += a * a;
            ++n;
        }
    if (n == 0) return;
    if (c.aaac_norm == VLMRL_AAAC_MINMAX) {
        c.adv_stat_a = static_cast<float>(lo);
        c.adv_stat_b = static_cast<float>(hi);
    } else {
        const double mean = sum / n;
        c.adv_stat_a = static_cast<float>(mean);
        c.adv_stat_b = static_cast<float>(std::sqrt(std::max(0.0, sum_sq / n - mean * mean)));
    }
}

struct LossRun {
    int code = -1;
    vlmrl_policy_loss_result result{};
    std::vector<float> grad, grad_entropy;
};

/* Every field bit for bit (not memcmp of the struct: its padding is unspecified). */
bool same_result(const vlmrl_policy_loss_result& a, const vlmrl_policy_loss_result& b) {
    return vt::same_bits(a.loss, b.loss) && vt::same_bits(a.pg_loss, b.pg_loss) &&
           vt::same_bits(a.kl_loss, b.kl_loss) && vt::same_bits(a.entropy_loss, b.entropy_loss) &&
           a.n_valid == b.n_valid && a.n_clip_upper == b.n_clip_upper && a.n_clip_lower == b.n_clip_lower &&
           a.n_dual_clip == b.n_dual_clip && a.n_adv_pos == b.n_adv_pos && a.n_adv_neg == b.n_adv_neg &&
           a.n_adv_pos_large == b.n_adv_pos_large && a.n_adv_neg_large == b.n_adv_neg_large &&
           a.n_clip_upper_adv_large == b.n_clip_upper_adv_large &&
           a.n_clip_lower_adv_large == b.n_clip_lower_adv_large && vt::same_bits(a.sum_ppo_kl, b.sum_ppo_kl) &&
           vt::same_bits(a.sum_kl, b.sum_kl) && vt::same_bits(a.sum_eps_high, b.sum_eps_high) &&
           vt::same_bits(a.sum_ratio, b.sum_ratio) && vt::same_bits(a.sum_entropy, b.sum_entropy) &&
           a.nonfinite_count == b.nonfinite_count && a.first_nonfinite == b.first_nonfinite &&
           a.first_nonfinite_input == b.first_nonfinite_input;
}

LossRun run_loss_cpu(const vlmrl_policy_loss_config& c, const LossInputs& in, const LossOptions& o) {
    LossRun r;
    r.grad.assign(in.logp.size(), -7.0f);  // sentinels: every element must be written
    r.grad_entropy.assign(in.logp.size(), -7.0f);
    r.code = vlmrl_policy_loss_cpu(&c, in.logp.data(), in.old.data(), in.adv.data(), in.mask.data(),
                                   o.ref ? in.ref.data() : nullptr, o.kl_weight ? in.kl_weight.data() : nullptr,
                                   o.entropy ? in.entropy.data() : nullptr, r.grad.data(),
                                   o.grad_entropy ? r.grad_entropy.data() : nullptr, &r.result);
    return r;
}

LossRun run_loss_cuda(const vlmrl_policy_loss_config& c, const LossInputs& in, const LossOptions& o) {
    LossRun r;
    const size_t m = o.misalign;
    DeviceArray<float> logp(in.logp, m), old(in.old, m), adv(in.adv, m), ref(in.ref, m),
        kl_weight(in.kl_weight, m), entropy(in.entropy, m);
    DeviceArray<uint8_t> mask(in.mask, m);
    DeviceArray<float> grad(std::vector<float>(in.logp.size(), -7.0f), m);
    DeviceArray<float> grad_entropy(std::vector<float>(in.logp.size(), -7.0f), m);
    r.code = vlmrl_policy_loss_cuda(&c, logp.get(), old.get(), adv.get(), mask.get(), or_null(o.ref, ref),
                                    or_null(o.kl_weight, kl_weight), or_null(o.entropy, entropy), grad.get(),
                                    or_null(o.grad_entropy, grad_entropy), &r.result, nullptr);
    r.grad = grad.download();
    r.grad_entropy = grad_entropy.download();
    return r;
}

/*
 * Token-level comparisons allow a couple of "boundary flips": rho is e^x on both sides,
 * but two correctly rounded-ish exps may differ by an ulp, and a token whose rho sits
 * within that ulp of a clip bound then takes the other branch (gradient 0 vs -A rho).
 */
constexpr int64_t kMaxBoundaryFlips = 2;

void compare_grads(const char* what, const std::vector<float>& gpu, const std::vector<float>& cpu) {
    float scale = 0.0f;
    for (float g : cpu) scale = std::max(scale, std::fabs(g));
    int64_t mismatches = 0, first = -1;
    for (size_t k = 0; k < cpu.size(); ++k) {
        if (!vt::close_enough(gpu[k], cpu[k], 1e-5, 1e-6 * scale + 1e-30)) {
            if (first < 0) first = static_cast<int64_t>(k);
            ++mismatches;
        }
    }
    vt::check(mismatches <= kMaxBoundaryFlips, __FILE__, __LINE__,
              "%s: %lld of %zu elements differ (first at %lld: gpu %.9g, cpu %.9g)", what,
              static_cast<long long>(mismatches), cpu.size(), static_cast<long long>(first),
              first >= 0 ? gpu[static_cast<size_t>(first)] : 0.0, first >= 0 ? cpu[static_cast<size_t>(first)] : 0.0);
}

void compare_loss(const char* label, const LossRun& gpu, const LossRun& cpu, const LossOptions& o) {
    vt::check(gpu.code == cpu.code, __FILE__, __LINE__, "%s: return code gpu %d, cpu %d (%s)", label, gpu.code,
              cpu.code, vlmrl_last_error());
    if (gpu.code != VLMRL_OK || cpu.code != VLMRL_OK) return;
    const vlmrl_policy_loss_result& g = gpu.result;
    const vlmrl_policy_loss_result& c = cpu.result;
    const double n = static_cast<double>(std::max<int64_t>(c.n_valid, 1));
    struct Field {
        const char* name;
        double gpu, cpu, atol;
    };
    // Aggregated values are O(1); raw sums grow with the token count.
    const Field fields[] = {
        {"loss", g.loss, c.loss, 1e-5},
        {"pg_loss", g.pg_loss, c.pg_loss, 1e-5},
        {"kl_loss", g.kl_loss, c.kl_loss, 1e-5},
        {"entropy_loss", g.entropy_loss, c.entropy_loss, 1e-5},
        {"sum_ppo_kl", g.sum_ppo_kl, c.sum_ppo_kl, 1e-5 * n},
        {"sum_kl", g.sum_kl, c.sum_kl, 1e-5 * n},
        {"sum_eps_high", g.sum_eps_high, c.sum_eps_high, 1e-5 * n},
        {"sum_ratio", g.sum_ratio, c.sum_ratio, 1e-5 * n},
        {"sum_entropy", g.sum_entropy, c.sum_entropy, 1e-5 * n},
    };
    for (const Field& f : fields)
        vt::check(vt::close_enough(f.gpu, f.cpu, 1e-5, f.atol), __FILE__, __LINE__, "%s: %s gpu %.12g, cpu %.12g",
                  label, f.name, f.gpu, f.cpu);
    vt::check(g.n_valid == c.n_valid, __FILE__, __LINE__, "%s: n_valid gpu %lld, cpu %lld", label,
              static_cast<long long>(g.n_valid), static_cast<long long>(c.n_valid));
    // Sign and size classes do not depend on the ratio: exact.
    vt::check(g.n_adv_pos == c.n_adv_pos && g.n_adv_neg == c.n_adv_neg && g.n_adv_pos_large == c.n_adv_pos_large &&
                  g.n_adv_neg_large == c.n_adv_neg_large,
              __FILE__, __LINE__, "%s: advantage classes gpu (%lld, %lld, %lld, %lld), cpu (%lld, %lld, %lld, %lld)",
              label, static_cast<long long>(g.n_adv_pos), static_cast<long long>(g.n_adv_neg),
              static_cast<long long>(g.n_adv_pos_large), static_cast<long long>(g.n_adv_neg_large),
              static_cast<long long>(c.n_adv_pos), static_cast<long long>(c.n_adv_neg),
              static_cast<long long>(c.n_adv_pos_large), static_cast<long long>(c.n_adv_neg_large));
    const int64_t counts[][2] = {{g.n_clip_upper, c.n_clip_upper}, {g.n_clip_lower, c.n_clip_lower},
                                 {g.n_dual_clip, c.n_dual_clip},
                                 {g.n_clip_upper_adv_large, c.n_clip_upper_adv_large},
                                 {g.n_clip_lower_adv_large, c.n_clip_lower_adv_large}};
    for (const auto& count : counts)
        vt::check(std::llabs(count[0] - count[1]) <= kMaxBoundaryFlips, __FILE__, __LINE__,
                  "%s: clip counts gpu %lld, cpu %lld", label, static_cast<long long>(count[0]),
                  static_cast<long long>(count[1]));
    vt::check(g.nonfinite_count == c.nonfinite_count && g.first_nonfinite == c.first_nonfinite &&
                  g.first_nonfinite_input == c.first_nonfinite_input,
              __FILE__, __LINE__, "%s: non-finite gpu (%lld, %lld, %d), cpu (%lld, %lld, %d)", label,
              static_cast<long long>(g.nonfinite_count), static_cast<long long>(g.first_nonfinite),
              g.first_nonfinite_input, static_cast<long long>(c.nonfinite_count),
              static_cast<long long>(c.first_nonfinite), c.first_nonfinite_input);
    compare_grads(label, gpu.grad, cpu.grad);
    if (o.grad_entropy) compare_grads(label, gpu.grad_entropy, cpu.grad_entropy);
}

void check_loss_case(const char* label, const vlmrl_policy_loss_config& c, const LossInputs& in,
                     const LossOptions& o) {
    compare_loss(label, run_loss_cuda(c, in, o), run_loss_cpu(c, in, o), o);
}

void clip_modes() {
    vt::Random rng(11);
    for (int per_token = 0; per_token <= 1; ++per_token) {
        const LossInputs in = make_loss_inputs(rng, 37, 301, per_token != 0);
        struct Mode {
            const char* name;
            int32_t clip, norm, dual;
            float eps_high;
        };
        const Mode modes[] = {{"ppo", VLMRL_CLIP_PPO, 0, 0, 0.2f},
                              {"clip-higher", VLMRL_CLIP_HIGHER, 0, 0, 0.28f},
                              {"ppo+dual", VLMRL_CLIP_PPO, 0, 1, 0.2f},
                              {"aaac-minmax", VLMRL_CLIP_AAAC, VLMRL_AAAC_MINMAX, 0, 0.0f},
                              {"aaac-zscore", VLMRL_CLIP_AAAC, VLMRL_AAAC_ZSCORE_CDF, 1, 0.0f}};
        for (const Mode& m : modes) {
            vlmrl_policy_loss_config c = default_loss_config(in);
            c.clip_mode = m.clip;
            c.eps_high = m.eps_high;
            c.aaac_norm = m.norm;
            c.dual_clip = m.dual;
            c.denom = denominator(in, c.agg_mode);
            set_adv_stats(in, c);
            char label[96];
            std::snprintf(label, sizeof label, "%s, adv_per_token=%d", m.name, per_token);
            check_loss_case(label, c, in, LossOptions{});
        }
    }
}

void kl_entropy_and_aggregation() {
    vt::Random rng(12);
    const LossInputs in = make_loss_inputs(rng, 16, 515, false);
    for (int32_t kl = VLMRL_KL_K1; kl <= VLMRL_KL_K3; ++kl) {
        for (int32_t agg = VLMRL_AGG_TOKEN_MEAN; agg <= VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM; ++agg) {
            vlmrl_policy_loss_config c = default_loss_config(in);
            c.kl_mode = kl;
            c.kl_beta = 0.05f;
            c.agg_mode = agg;
            c.kl_agg_mode = (agg + 2) % 4;  // a different mode for the KL term
            c.denom = denominator(in, c.agg_mode);
            c.kl_denom = denominator(in, c.kl_agg_mode);
            c.entropy_coef = 0.01f;
            LossOptions o;
            o.ref = o.entropy = o.grad_entropy = true;
            o.kl_weight = (agg % 2) == 0;
            char label[96];
            std::snprintf(label, sizeof label, "kl=%d agg=%d kl_agg=%d", kl, agg, c.kl_agg_mode);
            check_loss_case(label, c, in, o);
        }
    }
}

void long_rows_and_many_blocks() {
    vt::Random rng(13);
    // Rows longer than one count chunk (8192) and more tokens than one block (4096).
    const LossInputs in = make_loss_inputs(rng, 7, 20001, true);
    vlmrl_policy_loss_config c = default_loss_config(in);
    c.clip_mode = VLMRL_CLIP_AAAC;
    set_adv_stats(in, c);
    c.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    c.denom = denominator(in, c.agg_mode);
    c.kl_mode = VLMRL_KL_K3;
    c.kl_agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    c.kl_denom = c.denom;
    LossOptions o;
    o.ref = o.kl_weight = o.entropy = o.grad_entropy = true;
    check_loss_case("7 x 20001, aaac + k3, seq-mean-token-mean", c, in, o);
}

void misaligned_inputs_take_the_scalar_path() {
    vt::Random rng(14);
    const LossInputs in = make_loss_inputs(rng, 9, 130, true);
    vlmrl_policy_loss_config c = default_loss_config(in);
    c.kl_mode = VLMRL_KL_K2;
    c.dual_clip = 1;
    c.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_SUM;
    c.denom = denominator(in, c.agg_mode);
    c.kl_denom = denominator(in, c.kl_agg_mode);
    LossOptions o;
    o.ref = o.entropy = o.grad_entropy = true;
    o.misalign = 1;
    check_loss_case("misaligned by one element", c, in, o);
    // The scalar path assigns tokens to threads as the vector path does: identical sums.
    LossOptions aligned = o;
    aligned.misalign = 0;
    const LossRun a = run_loss_cuda(c, in, aligned), b = run_loss_cuda(c, in, o);
    CHECK(same_result(a.result, b.result));
}

void entropy_options() {
    vt::Random rng(15);
    const LossInputs in = make_loss_inputs(rng, 5, 64, false);
    vlmrl_policy_loss_config c = default_loss_config(in);
    c.denom = denominator(in, c.agg_mode);
    LossOptions with_input_only;
    with_input_only.entropy = true;  // sums without a gradient output
    check_loss_case("entropy input, no grad_entropy", c, in, with_input_only);
    LossOptions grad_only;
    grad_only.grad_entropy = true;  // zero-filled without an entropy input
    check_loss_case("grad_entropy without entropy input", c, in, grad_only);
    c.entropy_coef = 0.02f;
    LossOptions both;
    both.entropy = both.grad_entropy = true;
    check_loss_case("entropy bonus", c, in, both);
}

void nonfinite_inputs_both_policies() {
    vt::Random rng(16);
    const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY};
    LossOptions o;
    o.ref = o.kl_weight = o.entropy = o.grad_entropy = true;
    for (int input = VLMRL_INPUT_LOGP; input <= VLMRL_INPUT_KL_WEIGHT; ++input) {
        for (int policy = VLMRL_NONFINITE_ERROR; policy <= VLMRL_NONFINITE_MASK; ++policy) {
            LossInputs in = make_loss_inputs(rng, 12, 257, false);
            // Poison a masked token (must be ignored) and a few valid ones of this input.
            in.mask[5] = 0;
            in.logp[5] = NAN;
            for (int hit = 0; hit < 3; ++hit) {
                const size_t k = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(in.logp.size()) - 1));
                const size_t row = k / static_cast<size_t>(in.row_len);
                in.mask[k] = 1;
                const float v = bad_values[hit];
                switch (input) {
                    case VLMRL_INPUT_LOGP: in.logp[k] = v; break;
                    case VLMRL_INPUT_OLD: in.old[k] = v; break;
                    case VLMRL_INPUT_ADV: in.adv[row] = v; break;
                    case VLMRL_INPUT_REF: in.ref[k] = v; break;
                    case VLMRL_INPUT_ENTROPY: in.entropy[k] = v; break;
                    default: in.kl_weight[row] = v; break;
                }
            }
            vlmrl_policy_loss_config c = default_loss_config(in);
            c.nonfinite_policy = policy;
            c.kl_mode = VLMRL_KL_K3;
            c.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
            c.denom = denominator(in, c.agg_mode);
            c.kl_denom = denominator(in, c.kl_agg_mode);
            c.entropy_coef = 0.01f;
            char label[64];
            std::snprintf(label, sizeof label, "bad input %d, policy %d", input, policy);
            const LossRun gpu = run_loss_cuda(c, in, o), cpu = run_loss_cpu(c, in, o);
            CHECK(gpu.result.nonfinite_count > 0);
            compare_loss(label, gpu, cpu, o);
        }
    }
}

void empty_and_all_masked() {
    vt::Random rng(17);
    LossInputs in = make_loss_inputs(rng, 4, 33, false);
    const LossOptions o;
    vlmrl_policy_loss_config c = default_loss_config(in);
    c.n_rows = 0;
    LossRun gpu;
    gpu.code = vlmrl_policy_loss_cuda(&c, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                      nullptr, &gpu.result, nullptr);
    CHECK_EQ_INT(gpu.code, VLMRL_OK);
    CHECK_EQ_INT(gpu.result.n_valid, 0);
    CHECK_EQ_INT(gpu.result.first_nonfinite, -1);
    CHECK_EQ_INT(gpu.result.first_nonfinite_input, -1);
    CHECK(gpu.result.loss == 0.0);

    std::fill(in.mask.begin(), in.mask.end(), 0);
    c = default_loss_config(in);
    c.denom = 0.0;  // no valid tokens: a zero denominator is not an error
    c.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    check_loss_case("all masked", c, in, o);
}

void bad_configs_are_rejected() {
    vt::Random rng(18);
    const LossInputs in = make_loss_inputs(rng, 3, 40, false);
    const LossOptions o;
    struct Mutation {
        const char* name;
        void (*apply)(vlmrl_policy_loss_config&);
    };
    const Mutation mutations[] = {
        {"eps_low = 1", [](vlmrl_policy_loss_config& c) { c.eps_low = 1.0f; }},
        {"clip_mode = 7", [](vlmrl_policy_loss_config& c) { c.clip_mode = 7; }},
        {"dual_clip_c = 1", [](vlmrl_policy_loss_config& c) { c.dual_clip = 1, c.dual_clip_c = 1.0f; }},
        {"kl_mode = 9", [](vlmrl_policy_loss_config& c) { c.kl_mode = 9; }},
        {"agg_mode = -1", [](vlmrl_policy_loss_config& c) { c.agg_mode = -1; }},
        {"denom = 0 with valid tokens", [](vlmrl_policy_loss_config& c) { c.denom = 0.0; }},
        {"logratio_clamp = NaN", [](vlmrl_policy_loss_config& c) { c.logratio_clamp = NAN; }},
        {"nonfinite_policy = 2", [](vlmrl_policy_loss_config& c) { c.nonfinite_policy = 2; }},
        {"aaac max < min", [](vlmrl_policy_loss_config& c) { c.clip_mode = VLMRL_CLIP_AAAC, c.aaac_eps_max = 0.1f; }},
    };
    for (const Mutation& m : mutations) {
        vlmrl_policy_loss_config c = default_loss_config(in);
        c.denom = denominator(in, c.agg_mode);
        m.apply(c);
        const LossRun gpu = run_loss_cuda(c, in, o);
        vt::check(gpu.code == VLMRL_ERR_BAD_CONFIG, __FILE__, __LINE__, "%s: code %d", m.name, gpu.code);
        vt::check(std::strstr(vlmrl_last_error(), "vlmrl_policy_loss_cuda") != nullptr, __FILE__, __LINE__,
                  "%s: message '%s'", m.name, vlmrl_last_error());
        compare_loss(m.name, gpu, run_loss_cpu(c, in, o), o);
    }
    vlmrl_policy_loss_config c = default_loss_config(in);
    c.kl_mode = VLMRL_KL_K1;
    LossRun gpu = run_loss_cuda(c, in, LossOptions{});  // no ref
    CHECK_EQ_INT(gpu.code, VLMRL_ERR_NULL_POINTER);
    CHECK_EQ_INT(vlmrl_policy_loss_cuda(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr, nullptr, &gpu.result, nullptr),
                 VLMRL_ERR_NULL_POINTER);
}

void policy_loss_is_deterministic() {
    vt::Random rng(19);
    const LossInputs in = make_loss_inputs(rng, 256, 4096, true);  // 1M tokens, 256 blocks
    vlmrl_policy_loss_config c = default_loss_config(in);
    c.clip_mode = VLMRL_CLIP_AAAC;
    c.aaac_norm = VLMRL_AAAC_ZSCORE_CDF;
    set_adv_stats(in, c);
    c.kl_mode = VLMRL_KL_K3;
    c.agg_mode = VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN;
    c.denom = denominator(in, c.agg_mode);
    c.kl_denom = denominator(in, c.kl_agg_mode);
    LossOptions o;
    o.ref = o.kl_weight = o.entropy = o.grad_entropy = true;
    const LossRun first = run_loss_cuda(c, in, o), second = run_loss_cuda(c, in, o);
    CHECK_EQ_INT(first.code, VLMRL_OK);
    CHECK(same_result(first.result, second.result));
    CHECK(vt::same_bits(first.grad, second.grad));
    CHECK(vt::same_bits(first.grad_entropy, second.grad_entropy));
    compare_loss("1M tokens", first, run_loss_cpu(c, in, o), o);
}

/* ================= token log-probs ================= */

struct LogitsCase {
    int64_t n_rows, vocab, row_stride;
    int32_t dtype;
    float temperature;
};

/* Logits ~ N(0, 3) with a few -Inf (probability 0), as floats and in the case's dtype. */
struct Logits {
    std::vector<float> f32;
    std::vector<uint16_t> bf16;
    std::vector<int64_t> targets;
};

Logits make_logits(vt::Random& rng, const LogitsCase& lc) {
    Logits l;
    const size_t n = static_cast<size_t>(lc.n_rows * lc.row_stride);
    l.f32.assign(n, 12345.0f);  // padding beyond vocab must never be read
    for (int64_t r = 0; r < lc.n_rows; ++r)
        for (int64_t v = 0; v < lc.vocab; ++v)
            l.f32[static_cast<size_t>(r * lc.row_stride + v)] =
                rng.chance(0.002) ? -INFINITY : static_cast<float>(rng.normal(0.0, 3.0));
    if (lc.dtype == VLMRL_DTYPE_BF16) {
        l.bf16.resize(n);
        for (size_t k = 0; k < n; ++k) {
            l.bf16[k] = to_bf16(l.f32[k]);
            l.f32[k] = from_bf16(l.bf16[k]);
        }
    }
    for (int64_t r = 0; r < lc.n_rows; ++r) l.targets.push_back(rng.integer(0, lc.vocab - 1));
    return l;
}

vlmrl_token_logprobs_config logprobs_config(const LogitsCase& lc) {
    vlmrl_token_logprobs_config c{};
    c.n_rows = lc.n_rows;
    c.vocab = lc.vocab;
    c.row_stride = lc.row_stride;
    c.temperature = lc.temperature;
    c.dtype = lc.dtype;
    c.nonfinite_policy = VLMRL_NONFINITE_MASK;
    return c;
}

const void* host_logits(const Logits& l, int32_t dtype) {
    return dtype == VLMRL_DTYPE_F32 ? static_cast<const void*>(l.f32.data()) : static_cast<const void*>(l.bf16.data());
}

struct ForwardRun {
    int code = -1;
    vlmrl_token_logprobs_result result{};
    std::vector<float> logp, entropy, lse;
};

ForwardRun forward_cpu(const vlmrl_token_logprobs_config& c, const Logits& l, bool entropy) {
    ForwardRun r;
    r.logp.assign(static_cast<size_t>(c.n_rows), -7.0f);
    r.entropy.assign(static_cast<size_t>(c.n_rows), -7.0f);
    r.lse.assign(static_cast<size_t>(c.n_rows), -7.0f);
    r.code = vlmrl_token_logprobs_forward_cpu(&c, host_logits(l, c.dtype), l.targets.data(), r.logp.data(),
                                              entropy ? r.entropy.data() : nullptr, r.lse.data(), &r.result);
    return r;
}

/* Device copies of one case's logits (either dtype) and targets. */
struct DeviceLogits {
    DeviceArray<float> f32;
    DeviceArray<uint16_t> bf16;
    DeviceArray<int64_t> targets;
    int32_t dtype;
    DeviceLogits(const Logits& l, int32_t dt) : targets(l.targets), dtype(dt) {
        if (dt == VLMRL_DTYPE_F32)
            f32.upload(l.f32);
        else
            bf16.upload(l.bf16);
    }
    void* get() const { return dtype == VLMRL_DTYPE_F32 ? static_cast<void*>(f32.get()) : static_cast<void*>(bf16.get()); }
    /* Back to floats, whatever the dtype. */
    std::vector<float> download_as_float() const {
        if (dtype == VLMRL_DTYPE_F32) return f32.download();
        const std::vector<uint16_t> h = bf16.download();
        std::vector<float> out(h.size());
        for (size_t k = 0; k < h.size(); ++k) out[k] = from_bf16(h[k]);
        return out;
    }
};

ForwardRun forward_cuda(const vlmrl_token_logprobs_config& c, const DeviceLogits& d, bool entropy) {
    ForwardRun r;
    const std::vector<float> sentinel(static_cast<size_t>(c.n_rows), -7.0f);
    DeviceArray<float> logp(sentinel), ent(sentinel), lse(sentinel);
    r.code = vlmrl_token_logprobs_forward_cuda(&c, d.get(), d.targets.get(), logp.get(), entropy ? ent.get() : nullptr,
                                               lse.get(), &r.result, nullptr);
    r.logp = logp.download();
    r.entropy = ent.download();
    r.lse = lse.download();
    return r;
}

void compare_forward(const char* label, const ForwardRun& gpu, const ForwardRun& cpu, bool entropy) {
    vt::check(gpu.code == cpu.code, __FILE__, __LINE__, "%s: code gpu %d, cpu %d (%s)", label, gpu.code, cpu.code,
              vlmrl_last_error());
    if (gpu.code != VLMRL_OK) return;
    CHECK_EQ_INT(gpu.result.nonfinite_count, cpu.result.nonfinite_count);
    CHECK_EQ_INT(gpu.result.first_nonfinite, cpu.result.first_nonfinite);
    for (size_t r = 0; r < cpu.logp.size(); ++r) {
        CHECK_CLOSE_AT("logp", r, gpu.logp[r], cpu.logp[r], 1e-5, 1e-4);
        CHECK_CLOSE_AT("lse", r, gpu.lse[r], cpu.lse[r], 1e-5, 1e-4);
        if (entropy) CHECK_CLOSE_AT("entropy", r, gpu.entropy[r], cpu.entropy[r], 1e-4, 1e-4);
    }
}

/* Gradient comparison: fp32 to float rounding, bf16 to one bf16 rounding step. */
void compare_logit_grads(const char* label, const std::vector<float>& gpu, const std::vector<float>& cpu,
                         int32_t dtype, const LogitsCase& lc) {
    float scale = 0.0f;
    for (int64_t r = 0; r < lc.n_rows; ++r)
        for (int64_t v = 0; v < lc.vocab; ++v) scale = std::max(scale, std::fabs(cpu[static_cast<size_t>(r * lc.row_stride + v)]));
    const double rtol = dtype == VLMRL_DTYPE_F32 ? 1e-4 : 1.6e-2;
    int64_t mismatches = 0, first = -1;
    for (int64_t r = 0; r < lc.n_rows; ++r)
        for (int64_t v = 0; v < lc.vocab; ++v) {
            const size_t k = static_cast<size_t>(r * lc.row_stride + v);
            if (!vt::close_enough(gpu[k], cpu[k], rtol, 1e-5 * scale + 1e-30)) {
                if (first < 0) first = static_cast<int64_t>(k);
                ++mismatches;
            }
        }
    vt::check(mismatches == 0, __FILE__, __LINE__, "%s: %lld gradient elements differ (first flat index %lld: gpu %.9g, cpu %.9g)",
              label, static_cast<long long>(mismatches), static_cast<long long>(first),
              first >= 0 ? gpu[static_cast<size_t>(first)] : 0.0, first >= 0 ? cpu[static_cast<size_t>(first)] : 0.0);
}

/* Forward then backward on both sides (in place or not) for one shape. */
void check_logprobs_case(const char* label, const LogitsCase& lc, vt::Random& rng, bool entropy, bool in_place) {
    const Logits l = make_logits(rng, lc);
    const vlmrl_token_logprobs_config c = logprobs_config(lc);
    const ForwardRun cpu = forward_cpu(c, l, entropy);
    DeviceLogits d(l, lc.dtype);
    const ForwardRun gpu = forward_cuda(c, d, entropy);
    compare_forward(label, gpu, cpu, entropy);
    if (cpu.code != VLMRL_OK || gpu.code != VLMRL_OK) return;

    std::vector<float> g_logp(static_cast<size_t>(lc.n_rows)), g_entropy(static_cast<size_t>(lc.n_rows));
    for (size_t r = 0; r < g_logp.size(); ++r) {
        g_logp[r] = static_cast<float>(rng.normal(0.0, 1.0));
        g_entropy[r] = static_cast<float>(rng.normal(0.0, 1.0));
    }
    // CPU backward, from the CPU forward's lse and entropy.
    Logits cpu_grad = l;
    void* cpu_out = const_cast<void*>(host_logits(cpu_grad, lc.dtype));
    const int cpu_code = vlmrl_token_logprobs_backward_cpu(
        &c, in_place ? cpu_out : host_logits(l, lc.dtype), l.targets.data(), cpu.lse.data(),
        entropy ? cpu.entropy.data() : nullptr, g_logp.data(), entropy ? g_entropy.data() : nullptr, cpu_out);
    // CUDA backward, from the CUDA forward's outputs.
    DeviceArray<float> d_lse(gpu.lse), d_entropy(gpu.entropy), d_g_logp(g_logp), d_g_entropy(g_entropy);
    DeviceLogits d_out(l, lc.dtype);  // the logits themselves when in place; else only overwritten
    const int gpu_code = vlmrl_token_logprobs_backward_cuda(
        &c, in_place ? d_out.get() : d.get(), d.targets.get(), d_lse.get(), entropy ? d_entropy.get() : nullptr,
        d_g_logp.get(), entropy ? d_g_entropy.get() : nullptr, d_out.get(), nullptr);
    vt::check(gpu_code == VLMRL_OK && cpu_code == VLMRL_OK, __FILE__, __LINE__, "%s backward: gpu %d, cpu %d (%s)",
              label, gpu_code, cpu_code, vlmrl_last_error());
    std::vector<float> cpu_out_f = cpu_grad.f32;
    if (lc.dtype == VLMRL_DTYPE_BF16)
        for (size_t k = 0; k < cpu_out_f.size(); ++k) cpu_out_f[k] = from_bf16(cpu_grad.bf16[k]);
    compare_logit_grads(label, d_out.download_as_float(), cpu_out_f, lc.dtype, lc);
}

void logprobs_match_cpu() {
    vt::Random rng(21);
    struct Shape {
        const char* name;
        LogitsCase lc;
        bool entropy, in_place;
    };
    const Shape shapes[] = {
        {"warp rows, fp32, odd vocab", {29, 40, 40, VLMRL_DTYPE_F32, 1.0f}, true, false},
        {"warp rows, bf16, unaligned stride", {33, 2047, 2051, VLMRL_DTYPE_BF16, 1.0f}, true, false},
        {"block rows, fp32, T=0.7, tail", {9, 5003, 5008, VLMRL_DTYPE_F32, 0.7f}, true, false},
        {"block rows, bf16, in place", {6, 32000, 32000, VLMRL_DTYPE_BF16, 1.0f}, true, true},
        {"512-thread rows, bf16, no entropy", {5, 70001, 70008, VLMRL_DTYPE_BF16, 1.3f}, false, false},
        {"512-thread rows, fp32, in place", {3, 151936, 151936, VLMRL_DTYPE_F32, 1.0f}, true, true},
    };
    for (const Shape& s : shapes) check_logprobs_case(s.name, s.lc, rng, s.entropy, s.in_place);
}

void logprobs_nonfinite_rows() {
    vt::Random rng(22);
    for (int32_t dtype = VLMRL_DTYPE_F32; dtype <= VLMRL_DTYPE_BF16; ++dtype) {
        const LogitsCase lc{8, 3000, 3000, dtype, 1.0f};
        Logits l = make_logits(rng, lc);
        auto set = [&](int64_t row, int64_t col, float v) {
            const size_t k = static_cast<size_t>(row * lc.row_stride + col);
            l.f32[k] = v;
            if (dtype == VLMRL_DTYPE_BF16) l.bf16[k] = to_bf16(v);
        };
        set(2, 17, NAN);
        set(5, 2999, INFINITY);
        for (int64_t v = 0; v < lc.vocab; ++v) set(6, v, -INFINITY);  // no distribution at all
        set(7, l.targets[7], -INFINITY);                               // allowed: logp = -Inf
        for (int policy = VLMRL_NONFINITE_ERROR; policy <= VLMRL_NONFINITE_MASK; ++policy) {
            vlmrl_token_logprobs_config c = logprobs_config(lc);
            c.nonfinite_policy = policy;
            DeviceLogits d(l, dtype);
            const ForwardRun gpu = forward_cuda(c, d, true), cpu = forward_cpu(c, l, true);
            CHECK_EQ_INT(gpu.result.nonfinite_count, 3);
            CHECK_EQ_INT(gpu.result.first_nonfinite, 2);
            CHECK(std::isnan(gpu.lse[2]) && std::isnan(gpu.lse[5]) && std::isnan(gpu.lse[6]));
            CHECK(gpu.logp[2] == 0.0f && gpu.entropy[5] == 0.0f);
            CHECK(gpu.logp[7] == -INFINITY);
            // Everything but the -Inf logp row compares normally.
            ForwardRun gpu_cmp = gpu, cpu_cmp = cpu;
            gpu_cmp.logp[7] = cpu_cmp.logp[7] = 0.0f;
            compare_forward("non-finite rows", gpu_cmp, cpu_cmp, true);
            // The backward writes zeros on the non-finite rows.
            DeviceArray<float> d_lse(gpu.lse), d_g(std::vector<float>(static_cast<size_t>(lc.n_rows), 1.0f));
            DeviceLogits out(l, dtype);
            CHECK_EQ_INT(vlmrl_token_logprobs_backward_cuda(&c, d.get(), d.targets.get(), d_lse.get(), nullptr,
                                                            d_g.get(), nullptr, out.get(), nullptr),
                         VLMRL_OK);
            const std::vector<float> g = out.download_as_float();
            for (int64_t v = 0; v < lc.vocab; ++v) CHECK(g[static_cast<size_t>(2 * lc.row_stride + v)] == 0.0f);
        }
    }
}

void logprobs_bad_inputs_are_rejected() {
    vt::Random rng(23);
    const LogitsCase lc{4, 100, 100, VLMRL_DTYPE_F32, 1.0f};
    Logits l = make_logits(rng, lc);
    l.targets[2] = 100;  // == vocab
    DeviceLogits d(l, lc.dtype);
    vlmrl_token_logprobs_config c = logprobs_config(lc);
    const ForwardRun gpu = forward_cuda(c, d, true);
    CHECK_EQ_INT(gpu.code, VLMRL_ERR_BAD_CONFIG);
    CHECK(std::strstr(vlmrl_last_error(), "targets[2]") != nullptr);
    CHECK_EQ_INT(forward_cpu(c, l, true).code, VLMRL_ERR_BAD_CONFIG);

    vlmrl_token_logprobs_result result{};
    const vlmrl_token_logprobs_config good = logprobs_config(lc);
    c = good;
    c.temperature = 0.0f;
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cuda(&c, d.get(), d.targets.get(), nullptr, nullptr, nullptr, &result,
                                                   nullptr),
                 VLMRL_ERR_BAD_CONFIG);
    c = good;
    c.row_stride = 99;
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cuda(&c, d.get(), d.targets.get(), nullptr, nullptr, nullptr, nullptr,
                                                    d.get(), nullptr),
                 VLMRL_ERR_BAD_CONFIG);
    c = good;
    c.dtype = 5;
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cuda(&c, d.get(), d.targets.get(), nullptr, nullptr, nullptr, &result,
                                                   nullptr),
                 VLMRL_ERR_BAD_CONFIG);
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cuda(&good, d.get(), d.targets.get(), nullptr, nullptr, nullptr,
                                                   &result, nullptr),
                 VLMRL_ERR_NULL_POINTER);
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cuda(&good, d.get(), d.targets.get(), nullptr, nullptr, nullptr,
                                                   nullptr, nullptr),
                 VLMRL_ERR_NULL_POINTER);
    DeviceArray<float> lse(std::vector<float>(4, 0.0f)), g(std::vector<float>(4, 1.0f));
    CHECK_EQ_INT(vlmrl_token_logprobs_backward_cuda(&good, d.get(), d.targets.get(), lse.get(), nullptr, nullptr,
                                                    g.get(), d.get(), nullptr),
                 VLMRL_ERR_NULL_POINTER);  // grad_entropy without entropy
    c = good;
    c.n_rows = 0;  // empty: OK with null pointers
    CHECK_EQ_INT(vlmrl_token_logprobs_forward_cuda(&c, nullptr, nullptr, nullptr, nullptr, nullptr, &result, nullptr),
                 VLMRL_OK);
    CHECK_EQ_INT(result.first_nonfinite, -1);
}

void logprobs_are_deterministic() {
    vt::Random rng(24);
    const LogitsCase lc{64, 50000, 50000, VLMRL_DTYPE_BF16, 1.0f};
    const Logits l = make_logits(rng, lc);
    const vlmrl_token_logprobs_config c = logprobs_config(lc);
    DeviceLogits d(l, lc.dtype);
    const ForwardRun a = forward_cuda(c, d, true), b = forward_cuda(c, d, true);
    CHECK(vt::same_bits(a.logp, b.logp));
    CHECK(vt::same_bits(a.entropy, b.entropy));
    CHECK(vt::same_bits(a.lse, b.lse));
}

}  // namespace

/*
 * Usage: test_cuda_vs_cpu [--small] [case]
 *   --small  every case but the two large determinism ones (1M tokens; 64 x 50000 logits),
 *            for the slower compute-sanitizer tools (benchmarks/gpu/check.sh)
 *   case     one case by name (how CTest would call a single case); none: all of them
 * VLMRL_REQUIRE_CUDA=1 in the environment turns the "no CUDA device" skip into a failure,
 * so that a GPU check cannot pass by skipping.
 */
int main(int argc, char** argv) {
    bool small = false;
    std::vector<char*> args{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--small") == 0)
            small = true;
        else
            args.push_back(argv[i]);
    }
    if (vlmrl_cuda_device_count() == 0) {
        const char* require = std::getenv("VLMRL_REQUIRE_CUDA");
        if (require != nullptr && *require != '\0' && std::strcmp(require, "0") != 0) {
            std::fprintf(stderr,
                         "FAIL: VLMRL_REQUIRE_CUDA is set but vlmrl_cuda_device_count() is 0: no visible GPU, "
                         "or a driver older than the CUDA toolkit the library was built with (see nvidia-smi)\n");
            return 1;
        }
        std::printf("SKIPPED: no CUDA device\n");
        return 0;
    }
    std::string why;
    if (!driver().init(&why)) {
        std::fprintf(stderr, "a CUDA device is visible but the driver API is not usable: %s\n", why.c_str());
        return 1;
    }
    struct Listed {
        vt::Case c;
        bool large;
    };
    const Listed all[] = {{{"policy_loss_clip_modes", clip_modes}, false},
                          {{"policy_loss_kl_entropy_and_aggregation", kl_entropy_and_aggregation}, false},
                          {{"policy_loss_long_rows_and_many_blocks", long_rows_and_many_blocks}, false},
                          {{"policy_loss_misaligned_inputs", misaligned_inputs_take_the_scalar_path}, false},
                          {{"policy_loss_entropy_options", entropy_options}, false},
                          {{"policy_loss_nonfinite_inputs", nonfinite_inputs_both_policies}, false},
                          {{"policy_loss_empty_and_all_masked", empty_and_all_masked}, false},
                          {{"policy_loss_bad_configs", bad_configs_are_rejected}, false},
                          {{"policy_loss_deterministic", policy_loss_is_deterministic}, true},
                          {{"logprobs_match_cpu", logprobs_match_cpu}, false},
                          {{"logprobs_nonfinite_rows", logprobs_nonfinite_rows}, false},
                          {{"logprobs_bad_inputs", logprobs_bad_inputs_are_rejected}, false},
                          {{"logprobs_deterministic", logprobs_are_deterministic}, true}};
    std::vector<vt::Case> cases;
    for (const Listed& l : all)
        if (!(small && l.large)) cases.push_back(l.c);
    return vt::run_cases(static_cast<int>(args.size()), args.data(), "test_cuda_vs_cpu", cases);
}
