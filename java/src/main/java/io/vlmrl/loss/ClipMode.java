package io.vlmrl.loss;

import io.vlmrl.kernels.NativeKernels;

/** How the upper clip bound is chosen (the built-in losses {@code ppo}, {@code clip-higher}, {@code aaac}). */
public enum ClipMode {
    /** Fixed bounds 1 - eps_low, 1 + eps_high. */
    PPO(NativeKernels.VLMRL_CLIP_PPO),
    /** Same math as PPO with a wider eps_high (DAPO, 0.28 by default). */
    CLIP_HIGHER(NativeKernels.VLMRL_CLIP_HIGHER),
    /** eps_high per token from the normalized advantage (ACPO). */
    AAAC(NativeKernels.VLMRL_CLIP_AAAC);

    private final int nativeCode;

    ClipMode(int nativeCode) {
        this.nativeCode = nativeCode;
    }

    public int nativeCode() {
        return nativeCode;
    }
}
