package io.vlmrl.loss;

import io.vlmrl.kernels.TensorChecks;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The tensors of one (micro-)batch for the policy loss. Shapes are checked by
 * {@link Builder#build()}; dtypes by the backend (fused: float32; eager: float32 or float64).
 * <ul>
 *   <li>{@code logp} [B, T]: log-probs under the trained weights (may require grad);</li>
 *   <li>{@code old} [B, T]: behaviour log-probs recorded at rollout time;</li>
 *   <li>{@code adv} [B] (one per response) or [B, T];</li>
 *   <li>{@code mask} [B, T], bool or 0/1 numbers;</li>
 *   <li>{@code ref} [B, T], reference log-probs, required when the KL term is on;</li>
 *   <li>{@code klWeights} [B], per-response KL weights lambda (DADS), null for 1;</li>
 *   <li>{@code entropy} [B, T], token entropies, required when entropyCoef != 0 (may require grad);</li>
 *   <li>{@code denominators}: of the whole mini-batch ({@link Denominators#of}); defaults to this
 *       batch's own mask, which is right only when the batch is the whole mini-batch;</li>
 *   <li>{@code advantageStats}: of the whole rollout batch, required by {@code aaac}.</li>
 *   <li>{@code gradOutputs} (optional): float32 contiguous [B, T] tensors the loss writes dLoss/dlogp
 *       (and dLoss/dentropy) into, and returns as {@link PolicyLossResult#gradLogp()} /
 *       {@link PolicyLossResult#gradEntropy()}, instead of new ones. A caller that calls the loss
 *       repeatedly with the same shapes reuses them and saves the allocation and the first touch
 *       of its pages on every call (at 4M tokens, a fresh 16 MiB buffer costs more than the kernel's
 *       own pass over it). Their previous values are overwritten.</li>
 * </ul>
 */
public final class PolicyLossInputs {
    private final Tensor logp;
    private final Tensor old;
    private final Tensor adv;
    private final Tensor mask;
    private final Tensor ref;
    private final Tensor klWeights;
    private final Tensor entropy;
    private final Denominators denominators;
    private final AdvantageStats advantageStats;
    private final Tensor gradLogpOut;
    private final Tensor gradEntropyOut;

    private PolicyLossInputs(Builder b, Denominators denominators) {
        this.logp = b.logp;
        this.old = b.old;
        this.adv = b.adv;
        this.mask = b.mask;
        this.ref = b.ref;
        this.klWeights = b.klWeights;
        this.entropy = b.entropy;
        this.denominators = denominators;
        this.advantageStats = b.advantageStats;
        this.gradLogpOut = b.gradLogpOut;
        this.gradEntropyOut = b.gradEntropyOut;
    }

    /** Starts inputs from the four required tensors. */
    public static Builder builder(Tensor logp, Tensor old, Tensor adv, Tensor mask) {
        return new Builder(logp, old, adv, mask);
    }

    public Tensor logp() { return logp; }
    public Tensor old() { return old; }
    public Tensor adv() { return adv; }
    public Tensor mask() { return mask; }
    /** Reference log-probs, or null. */
    public Tensor ref() { return ref; }
    /** Per-response KL weights, or null (all 1). */
    public Tensor klWeights() { return klWeights; }
    /** Token entropies, or null. */
    public Tensor entropy() { return entropy; }
    public Denominators denominators() { return denominators; }
    /** Rollout-batch advantage statistics, or null. */
    public AdvantageStats advantageStats() { return advantageStats; }
    /** The caller's buffer for dLoss/dlogp, or null (a new tensor per call). */
    public Tensor gradLogpOut() { return gradLogpOut; }
    /** The caller's buffer for dLoss/dentropy, or null. */
    public Tensor gradEntropyOut() { return gradEntropyOut; }

    /** Responses in this batch (B). */
    public long rows() { return logp.size(0); }

    /** Tokens per response (T). */
    public long rowLength() { return logp.size(1); }

    /** True when {@code adv} is [B, T]. */
    public boolean advPerToken() { return adv.dim() == 2; }

    /** A builder with these inputs, e.g. to replace one tensor. */
    public Builder toBuilder() {
        return new Builder(logp, old, adv, mask).ref(ref).klWeights(klWeights).entropy(entropy)
                .denominators(denominators).advantageStats(advantageStats).gradOutputs(gradLogpOut, gradEntropyOut);
    }

    /**
     * Checks what the config needs: ref when the KL term is on, entropy when entropyCoef != 0,
     * advantage statistics for AAAC.
     */
    void requireFor(PolicyLossConfig config, ClipMode clip) {
        if (config.klEnabled() && ref == null) {
            throw new IllegalArgumentException("ref: expected reference log-probs [B, T] because klEstimator = "
                    + config.klEstimator().configName() + ", got null");
        }
        if (config.entropyCoef() != 0 && entropy == null) {
            throw new IllegalArgumentException("entropy: expected token entropies [B, T] because entropyCoef = "
                    + config.entropyCoef() + ", got null");
        }
        if (clip == ClipMode.AAAC && advantageStats == null) {
            throw new IllegalArgumentException("advantageStats: expected the rollout batch's statistics for loss mode "
                    + config.lossMode() + " (AdvantageStats.of(adv, mask), once per rollout batch), got null");
        }
    }

    /** Builder of {@link PolicyLossInputs}. */
    public static final class Builder {
        private final Tensor logp;
        private final Tensor old;
        private final Tensor adv;
        private final Tensor mask;
        private Tensor ref;
        private Tensor klWeights;
        private Tensor entropy;
        private Denominators denominators;
        private AdvantageStats advantageStats;
        private Tensor gradLogpOut;
        private Tensor gradEntropyOut;

        private Builder(Tensor logp, Tensor old, Tensor adv, Tensor mask) {
            this.logp = logp;
            this.old = old;
            this.adv = adv;
            this.mask = mask;
        }

        public Builder ref(Tensor v) { ref = v; return this; }
        public Builder klWeights(Tensor v) { klWeights = v; return this; }
        public Builder entropy(Tensor v) { entropy = v; return this; }
        public Builder denominators(Denominators v) { denominators = v; return this; }
        public Builder advantageStats(AdvantageStats v) { advantageStats = v; return this; }

        /**
         * Buffers the gradients are written into (see the class comment); null for new tensors.
         * {@code gradEntropy} is used only with an entropy input.
         */
        public Builder gradOutputs(Tensor gradLogp, Tensor gradEntropy) {
            gradLogpOut = gradLogp;
            gradEntropyOut = gradEntropy;
            return this;
        }

        /**
         * Checks shapes, devices and the mask's dtype.
         *
         * @throws IllegalArgumentException naming the argument, e.g.
         *         {@code "old: expected shape [4, 128] (same as logp), got [4, 127]"}
         */
        public PolicyLossInputs build() {
            TensorChecks.requireNonNull("logp", logp);
            TensorChecks.requireNonNull("old", old);
            TensorChecks.requireNonNull("adv", adv);
            TensorChecks.requireNonNull("mask", mask);
            TensorChecks.requireDim("logp", logp, 2, "[B, T]");
            long[] bt = TensorChecks.sizes(logp);
            long[] b = {bt[0]};
            TensorChecks.requireShape("old", old, bt, "same as logp");
            if (adv.dim() == 1) {
                TensorChecks.requireShape("adv", adv, b, "[B] with B from logp");
            } else {
                TensorChecks.requireShape("adv", adv, bt, "[B, T], same as logp, or [B]");
            }
            TensorChecks.requireShape("mask", mask, bt, "same as logp");
            TensorChecks.requireDtype("mask", mask, ScalarType.Bool, ScalarType.Byte, ScalarType.Float,
                    ScalarType.Double);
            if (ref != null) {
                TensorChecks.requireShape("ref", ref, bt, "same as logp");
            }
            if (klWeights != null) {
                TensorChecks.requireShape("klWeights", klWeights, b, "[B] with B from logp");
            }
            if (entropy != null) {
                TensorChecks.requireShape("entropy", entropy, bt, "same as logp");
            }
            for (String name : new String[] {"old", "adv", "mask", "ref", "klWeights", "entropy"}) {
                Tensor t = tensorNamed(name);
                if (t != null) {
                    TensorChecks.requireSameDevice(name, t, "logp", logp);
                }
            }
            requireGradOutput("gradLogpOut", gradLogpOut, bt);
            requireGradOutput("gradEntropyOut", gradEntropyOut, bt);
            if (gradEntropyOut != null && entropy == null) {
                throw new IllegalArgumentException("gradEntropyOut: expected null without an entropy input, got a tensor "
                        + "of shape " + TensorChecks.shape(gradEntropyOut));
            }
            return new PolicyLossInputs(this, denominators != null ? denominators : Denominators.of(mask));
        }

        private void requireGradOutput(String name, Tensor out, long[] bt) {
            if (out == null) {
                return;
            }
            TensorChecks.requireShape(name, out, bt, "same as logp");
            TensorChecks.requireDtype(name, out, ScalarType.Float);
            TensorChecks.requireSameDevice(name, out, "logp", logp);
            if (!out.is_contiguous()) {
                throw new IllegalArgumentException(name + ": expected a contiguous tensor, got strides "
                        + java.util.Arrays.toString(new long[] {out.stride(0), out.stride(1)}));
            }
            if (out.requires_grad()) {
                throw new IllegalArgumentException(name + ": expected a tensor that does not require grad (it is "
                        + "overwritten), got one that does");
            }
        }

        private Tensor tensorNamed(String name) {
            switch (name) {
                case "old": return old;
                case "adv": return adv;
                case "mask": return mask;
                case "ref": return ref;
                case "klWeights": return klWeights;
                default: return entropy;
            }
        }
    }
}
