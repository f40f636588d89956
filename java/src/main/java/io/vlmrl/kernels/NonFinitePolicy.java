package io.vlmrl.kernels;

/** What an op does when a valid input value is NaN or infinite. */
public enum NonFinitePolicy {
    /** Throw an {@link IllegalArgumentException} naming the tensor and the first bad index. */
    ERROR(NativeKernels.VLMRL_NONFINITE_ERROR),
    /** Treat the token as masked out (no loss, zero gradient) and count it in the metrics. */
    MASK(NativeKernels.VLMRL_NONFINITE_MASK);

    private final int nativeCode;

    NonFinitePolicy(int nativeCode) {
        this.nativeCode = nativeCode;
    }

    /** The {@code VLMRL_NONFINITE_*} constant of the C interface. */
    public int nativeCode() {
        return nativeCode;
    }
}
