package io.vlmrl.kernels;

import java.util.Locale;

/** Which implementation computes the log-probs and the policy loss. */
public enum KernelBackend {
    /** The fused native kernels (C++/OpenMP on CPU tensors, CUDA on CUDA tensors). */
    FUSED,
    /** Plain LibTorch ops with autograd: the reference ("eager peer"), any float dtype. */
    EAGER;

    /**
     * Parses {@code fused} or {@code eager} (case-insensitive).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static KernelBackend parse(String name) {
        for (KernelBackend b : values()) {
            if (b.name().equalsIgnoreCase(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("kernels: expected 'fused' or 'eager', got '" + name + "'");
    }

    /** The configuration name: {@code fused} or {@code eager}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
