package io.vlmrl.kernels;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of the native kernel library {@code libvlmrl_native} (C interface in
 * {@code native/include/vlmrl/*.h}).
 *
 * <p>This class is the raw, one-to-one mapping: structs become {@link Pointer} subclasses
 * with accessor methods named like the C fields, functions become static native methods
 * that take raw pointers (for example {@code tensor.data_ptr()}). Application code should
 * use {@link TokenLogProbs} and {@link io.vlmrl.loss.PolicyLoss}, which validate tensors
 * and turn error codes into exceptions.
 *
 * <p>The native library links the CUDA runtime statically, so it loads and runs the CPU
 * ops on machines without a GPU or a CUDA installation; the {@code *_cuda} functions then
 * return {@link #VLMRL_ERR_CUDA}.
 */
@Platform(include = {"vlmrl/common.h", "vlmrl/token_logprobs.h", "vlmrl/policy_loss.h", "vlmrl/net.h",
        "vlmrl/threads.h"},
          link = "vlmrl_native")
public final class NativeKernels {
    static {
        Loader.load();
    }

    private NativeKernels() {
    }

    /** Return code: success. */
    public static final int VLMRL_OK = 0;
    /** Return code: a config field is out of range. */
    public static final int VLMRL_ERR_BAD_CONFIG = 1;
    /** Return code: a required pointer is null. */
    public static final int VLMRL_ERR_NULL_POINTER = 2;
    /** Return code: a CUDA call failed or CUDA is not compiled in. */
    public static final int VLMRL_ERR_CUDA = 3;

    public static final int VLMRL_DTYPE_F32 = 0;
    public static final int VLMRL_DTYPE_BF16 = 1;

    public static final int VLMRL_NONFINITE_ERROR = 0;
    public static final int VLMRL_NONFINITE_MASK = 1;

    public static final int VLMRL_CLIP_PPO = 0;
    public static final int VLMRL_CLIP_HIGHER = 1;
    public static final int VLMRL_CLIP_AAAC = 2;

    public static final int VLMRL_AAAC_MINMAX = 0;
    public static final int VLMRL_AAAC_ZSCORE_CDF = 1;

    public static final int VLMRL_KL_NONE = 0;
    public static final int VLMRL_KL_K1 = 1;
    public static final int VLMRL_KL_K2 = 2;
    public static final int VLMRL_KL_K3 = 3;

    public static final int VLMRL_AGG_TOKEN_MEAN = 0;
    public static final int VLMRL_AGG_SEQ_MEAN_TOKEN_SUM = 1;
    public static final int VLMRL_AGG_SEQ_MEAN_TOKEN_MEAN = 2;
    public static final int VLMRL_AGG_SEQ_MEAN_TOKEN_SUM_NORM = 3;

    public static final int VLMRL_INPUT_LOGP = 0;
    public static final int VLMRL_INPUT_OLD = 1;
    public static final int VLMRL_INPUT_ADV = 2;
    public static final int VLMRL_INPUT_REF = 3;
    public static final int VLMRL_INPUT_ENTROPY = 4;
    public static final int VLMRL_INPUT_KL_WEIGHT = 5;

    // ---------------------------------------------------------------- common.h

    /** Message for the last error on this thread ("" if none). */
    public static native @Cast("const char*") BytePointer vlmrl_last_error();

    /** 1 when the library contains the CUDA kernels. */
    public static native int vlmrl_cuda_compiled();

    /** Number of visible CUDA devices (0 without GPU, driver or CUDA build). */
    public static native int vlmrl_cuda_device_count();

    // ---------------------------------------------------------------- net.h

    /**
     * A TCP socket bound to {@code host:port} and listening (the data-parallel rendezvous store's,
     * handed to LibTorch's TCPStore, which then owns and closes it); -1 with the reason in
     * {@link #vlmrl_last_error()}.
     */
    public static native int vlmrl_tcp_listen(@Cast("const char*") String host, int port, int backlog);

    // ---------------------------------------------------------------- threads.h

    /**
     * Sets the thread count of every OpenBLAS loaded in this process (LibTorch's matrix products);
     * returns how many were set (0 without OpenBLAS), or -1 with the reason in
     * {@link #vlmrl_last_error()}. Use {@link ComputeThreads#use}.
     */
    public static native int vlmrl_set_blas_threads(int threads);

    /** The thread count of the first OpenBLAS loaded in this process, or 0 when none is loaded. */
    public static native int vlmrl_blas_threads();

    // ---------------------------------------------------------------- token_logprobs.h

    /** {@code vlmrl_token_logprobs_config}. */
    @Name("vlmrl_token_logprobs_config")
    public static class TokenLogProbsConfig extends Pointer {
        static {
            Loader.load();
        }

        /** Allocates a zero-initialized struct (freed with {@link #close()} or by the GC). */
        public TokenLogProbsConfig() {
            super((Pointer) null);
            allocate();
            Pointer.memset(this, 0, sizeof());
        }

        private native void allocate();

        public native @Cast("int64_t") long n_rows();
        public native TokenLogProbsConfig n_rows(long value);
        public native @Cast("int64_t") long vocab();
        public native TokenLogProbsConfig vocab(long value);
        public native @Cast("int64_t") long row_stride();
        public native TokenLogProbsConfig row_stride(long value);
        public native float temperature();
        public native TokenLogProbsConfig temperature(float value);
        public native @Cast("int32_t") int dtype();
        public native TokenLogProbsConfig dtype(int value);
        public native @Cast("int32_t") int nonfinite_policy();
        public native TokenLogProbsConfig nonfinite_policy(int value);
    }

    /** {@code vlmrl_token_logprobs_result}. */
    @Name("vlmrl_token_logprobs_result")
    public static class TokenLogProbsResult extends Pointer {
        static {
            Loader.load();
        }

        public TokenLogProbsResult() {
            super((Pointer) null);
            allocate();
            Pointer.memset(this, 0, sizeof());
        }

        private native void allocate();

        public native @Cast("int64_t") long nonfinite_count();
        public native TokenLogProbsResult nonfinite_count(long value);
        public native @Cast("int64_t") long first_nonfinite();
        public native TokenLogProbsResult first_nonfinite(long value);
    }

    public static native int vlmrl_token_logprobs_forward_cpu(
            @Const TokenLogProbsConfig cfg, @Const Pointer logits, @Cast("const int64_t*") Pointer targets,
            @Cast("float*") Pointer logp, @Cast("float*") Pointer entropy, @Cast("float*") Pointer lse,
            TokenLogProbsResult result);

    public static native int vlmrl_token_logprobs_backward_cpu(
            @Const TokenLogProbsConfig cfg, @Const Pointer logits, @Cast("const int64_t*") Pointer targets,
            @Cast("const float*") Pointer lse, @Cast("const float*") Pointer entropy,
            @Cast("const float*") Pointer gradLogp, @Cast("const float*") Pointer gradEntropy,
            Pointer gradLogits);

    public static native int vlmrl_token_logprobs_forward_cuda(
            @Const TokenLogProbsConfig cfg, @Const Pointer logits, @Cast("const int64_t*") Pointer targets,
            @Cast("float*") Pointer logp, @Cast("float*") Pointer entropy, @Cast("float*") Pointer lse,
            TokenLogProbsResult result, Pointer stream);

    public static native int vlmrl_token_logprobs_backward_cuda(
            @Const TokenLogProbsConfig cfg, @Const Pointer logits, @Cast("const int64_t*") Pointer targets,
            @Cast("const float*") Pointer lse, @Cast("const float*") Pointer entropy,
            @Cast("const float*") Pointer gradLogp, @Cast("const float*") Pointer gradEntropy,
            Pointer gradLogits, Pointer stream);

    // ---------------------------------------------------------------- policy_loss.h

    /** {@code vlmrl_policy_loss_config}. */
    @Name("vlmrl_policy_loss_config")
    public static class PolicyLossConfig extends Pointer {
        static {
            Loader.load();
        }

        public PolicyLossConfig() {
            super((Pointer) null);
            allocate();
            Pointer.memset(this, 0, sizeof());
        }

        private native void allocate();

        public native @Cast("int64_t") long n_rows();
        public native PolicyLossConfig n_rows(long value);
        public native @Cast("int64_t") long row_len();
        public native PolicyLossConfig row_len(long value);
        public native @Cast("int32_t") int adv_per_token();
        public native PolicyLossConfig adv_per_token(int value);
        public native @Cast("int32_t") int clip_mode();
        public native PolicyLossConfig clip_mode(int value);
        public native float eps_low();
        public native PolicyLossConfig eps_low(float value);
        public native float eps_high();
        public native PolicyLossConfig eps_high(float value);
        public native @Cast("int32_t") int aaac_norm();
        public native PolicyLossConfig aaac_norm(int value);
        public native float aaac_eps_min();
        public native PolicyLossConfig aaac_eps_min(float value);
        public native float aaac_eps_max();
        public native PolicyLossConfig aaac_eps_max(float value);
        public native float adv_stat_a();
        public native PolicyLossConfig adv_stat_a(float value);
        public native float adv_stat_b();
        public native PolicyLossConfig adv_stat_b(float value);
        public native @Cast("int32_t") int dual_clip();
        public native PolicyLossConfig dual_clip(int value);
        public native float dual_clip_c();
        public native PolicyLossConfig dual_clip_c(float value);
        public native @Cast("int32_t") int kl_mode();
        public native PolicyLossConfig kl_mode(int value);
        public native float kl_beta();
        public native PolicyLossConfig kl_beta(float value);
        public native @Cast("int32_t") int kl_agg_mode();
        public native PolicyLossConfig kl_agg_mode(int value);
        public native double kl_denom();
        public native PolicyLossConfig kl_denom(double value);
        public native float entropy_coef();
        public native PolicyLossConfig entropy_coef(float value);
        public native @Cast("int32_t") int agg_mode();
        public native PolicyLossConfig agg_mode(int value);
        public native double denom();
        public native PolicyLossConfig denom(double value);
        public native float logratio_clamp();
        public native PolicyLossConfig logratio_clamp(float value);
        public native float kl_clamp();
        public native PolicyLossConfig kl_clamp(float value);
        public native float k3_clamp();
        public native PolicyLossConfig k3_clamp(float value);
        public native @Cast("int32_t") int nonfinite_policy();
        public native PolicyLossConfig nonfinite_policy(int value);
        public native float adv_size_split();
        public native PolicyLossConfig adv_size_split(float value);
    }

    /** {@code vlmrl_policy_loss_result}. */
    @Name("vlmrl_policy_loss_result")
    public static class PolicyLossResult extends Pointer {
        static {
            Loader.load();
        }

        public PolicyLossResult() {
            super((Pointer) null);
            allocate();
            Pointer.memset(this, 0, sizeof());
        }

        private native void allocate();

        public native @MemberGetter double loss();
        public native @MemberGetter double pg_loss();
        public native @MemberGetter double kl_loss();
        public native @MemberGetter double entropy_loss();
        public native @MemberGetter @Cast("int64_t") long n_valid();
        public native @MemberGetter @Cast("int64_t") long n_clip_upper();
        public native @MemberGetter @Cast("int64_t") long n_clip_lower();
        public native @MemberGetter @Cast("int64_t") long n_dual_clip();
        public native @MemberGetter @Cast("int64_t") long n_adv_pos();
        public native @MemberGetter @Cast("int64_t") long n_adv_neg();
        public native @MemberGetter @Cast("int64_t") long n_adv_pos_large();
        public native @MemberGetter @Cast("int64_t") long n_adv_neg_large();
        public native @MemberGetter @Cast("int64_t") long n_clip_upper_adv_large();
        public native @MemberGetter @Cast("int64_t") long n_clip_lower_adv_large();
        public native @MemberGetter double sum_ppo_kl();
        public native @MemberGetter double sum_kl();
        public native @MemberGetter double sum_eps_high();
        public native @MemberGetter double sum_ratio();
        public native @MemberGetter double sum_entropy();
        public native @MemberGetter @Cast("int64_t") long nonfinite_count();
        public native @MemberGetter @Cast("int64_t") long first_nonfinite();
        public native @MemberGetter @Cast("int32_t") int first_nonfinite_input();
    }

    public static native int vlmrl_policy_loss_cpu(
            @Const PolicyLossConfig cfg, @Cast("const float*") Pointer logp, @Cast("const float*") Pointer old,
            @Cast("const float*") Pointer adv, @Cast("const uint8_t*") Pointer mask,
            @Cast("const float*") Pointer ref, @Cast("const float*") Pointer klWeight,
            @Cast("const float*") Pointer entropy, @Cast("float*") Pointer gradLogp,
            @Cast("float*") Pointer gradEntropy, PolicyLossResult result);

    public static native int vlmrl_policy_loss_cuda(
            @Const PolicyLossConfig cfg, @Cast("const float*") Pointer logp, @Cast("const float*") Pointer old,
            @Cast("const float*") Pointer adv, @Cast("const uint8_t*") Pointer mask,
            @Cast("const float*") Pointer ref, @Cast("const float*") Pointer klWeight,
            @Cast("const float*") Pointer entropy, @Cast("float*") Pointer gradLogp,
            @Cast("float*") Pointer gradEntropy, PolicyLossResult result, Pointer stream);

    /** STREAM triad {@code a[i] = b[i] + s * c[i]} (OpenMP), the memory-bandwidth reference. */
    public static native void vlmrl_stream_triad_cpu(
            @Cast("float*") Pointer a, @Cast("const float*") Pointer b, @Cast("const float*") Pointer c,
            float s, @Cast("int64_t") long n);

    // ---------------------------------------------------------------- helpers

    /**
     * Throws when a kernel returned an error code, with the library's message.
     *
     * @param code the kernel's return code
     * @param kernel the C function's name, for the message
     * @throws IllegalArgumentException for {@link #VLMRL_ERR_BAD_CONFIG} (a bad value was passed)
     * @throws IllegalStateException for null pointers and CUDA errors
     */
    public static void check(int code, String kernel) {
        if (code == VLMRL_OK) {
            return;
        }
        BytePointer message = vlmrl_last_error();
        String text = message == null ? "" : message.getString();
        String full = kernel + " failed (code " + code + "): " + text;
        if (code == VLMRL_ERR_BAD_CONFIG) {
            throw new IllegalArgumentException(full);
        }
        throw new IllegalStateException(full);
    }
}
