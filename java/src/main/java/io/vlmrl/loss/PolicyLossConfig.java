package io.vlmrl.loss;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.NonFinitePolicy;

/**
 * Immutable settings of the policy loss (docs/algorithms.md: "Ratio", "Clipped policy loss",
 * "AAAC", "KL penalty", "Loss aggregation"). Build with {@link #builder()}, or start from a
 * loss's defaults with {@link #ppo()}, {@link #clipHigher()} or {@link #aaac()}:
 * <pre>{@code
 * PolicyLossConfig cfg = PolicyLossConfig.clipHigher().aggregation(Aggregation.TOKEN_MEAN).build();
 * }</pre>
 *
 * <p>{@code lossMode} names the registered loss function ({@link PolicyLossRegistry}):
 * {@code ppo}, {@code clip-higher}, {@code aaac} or a custom one.
 */
public final class PolicyLossConfig {
    private final String lossMode;
    private final double epsLow;
    private final double epsHigh;
    private final AaacNormalization aaacNormalization;
    private final double aaacEpsMin;
    private final double aaacEpsMax;
    private final boolean dualClip;
    private final double dualClipC;
    private final KlEstimator klEstimator;
    private final double klBeta;
    private final Aggregation klAggregation;
    private final double entropyCoef;
    private final Aggregation aggregation;
    private final double logRatioClamp;
    private final double klClamp;
    private final double k3Clamp;
    private final NonFinitePolicy nonFinitePolicy;
    private final double clipfracAdvSplit;
    private final KernelBackend backend;
    private final boolean retainGraph;

    private PolicyLossConfig(Builder b) {
        this.lossMode = b.lossMode;
        this.epsLow = b.epsLow;
        this.epsHigh = b.epsHigh;
        this.aaacNormalization = b.aaacNormalization;
        this.aaacEpsMin = b.aaacEpsMin;
        this.aaacEpsMax = b.aaacEpsMax;
        this.dualClip = b.dualClip;
        this.dualClipC = b.dualClipC;
        this.klEstimator = b.klEstimator;
        this.klBeta = b.klBeta;
        this.klAggregation = b.klAggregation == null ? b.aggregation : b.klAggregation;
        this.entropyCoef = b.entropyCoef;
        this.aggregation = b.aggregation;
        this.logRatioClamp = b.logRatioClamp;
        this.klClamp = b.klClamp;
        this.k3Clamp = b.k3Clamp;
        this.nonFinitePolicy = b.nonFinitePolicy;
        this.clipfracAdvSplit = b.clipfracAdvSplit;
        this.backend = b.backend;
        this.retainGraph = b.retainGraph;
    }

    /** A builder with the defaults of {@code ppo}: eps_low = eps_high = 0.2, no KL, token-mean. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@code ppo}: eps_low = eps_high = 0.2. */
    public static Builder ppo() {
        return new Builder().lossMode("ppo");
    }

    /** DAPO's upper clip bound (the {@code dapo} preset's {@code loss.eps_high}). */
    public static final double DAPO_EPS_HIGH = 0.28;

    /** {@code clip-higher} (DAPO): eps_low = 0.2, eps_high = {@value #DAPO_EPS_HIGH}. */
    public static Builder clipHigher() {
        return new Builder().lossMode("clip-higher").epsHigh(DAPO_EPS_HIGH);
    }

    /** {@code aaac} (ACPO): eps_low = 0.2, eps_high from 0.20 to 0.32 by min-max normalized advantage. */
    public static Builder aaac() {
        return new Builder().lossMode("aaac");
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        return new Builder().lossMode(lossMode).epsLow(epsLow).epsHigh(epsHigh)
                .aaacNormalization(aaacNormalization).aaacEpsMin(aaacEpsMin).aaacEpsMax(aaacEpsMax)
                .dualClip(dualClip).dualClipC(dualClipC).klEstimator(klEstimator).klBeta(klBeta)
                .klAggregation(klAggregation).entropyCoef(entropyCoef).aggregation(aggregation)
                .logRatioClamp(logRatioClamp).klClamp(klClamp).k3Clamp(k3Clamp)
                .nonFinitePolicy(nonFinitePolicy).clipfracAdvSplit(clipfracAdvSplit).backend(backend)
                .retainGraph(retainGraph);
    }

    /** Name of the registered loss function. */
    public String lossMode() { return lossMode; }
    /** Lower clip: rho &gt;= 1 - epsLow. */
    public double epsLow() { return epsLow; }
    /** Upper clip for ppo / clip-higher: rho &lt;= 1 + epsHigh. */
    public double epsHigh() { return epsHigh; }
    public AaacNormalization aaacNormalization() { return aaacNormalization; }
    /** AAAC eps_high at normalized advantage 0. */
    public double aaacEpsMin() { return aaacEpsMin; }
    /** AAAC eps_high at normalized advantage 1. */
    public double aaacEpsMax() { return aaacEpsMax; }
    /** Bound the loss of A &lt; 0 tokens by -A * dualClipC. */
    public boolean dualClip() { return dualClip; }
    public double dualClipC() { return dualClipC; }
    public KlEstimator klEstimator() { return klEstimator; }
    /** Weight of the KL term. */
    public double klBeta() { return klBeta; }
    /** Aggregation of the KL term (defaults to {@link #aggregation()}). */
    public Aggregation klAggregation() { return klAggregation; }
    /** Entropy bonus: the loss subtracts entropyCoef * aggregate(H). */
    public double entropyCoef() { return entropyCoef; }
    /** Aggregation of the policy (and entropy) term. */
    public Aggregation aggregation() { return aggregation; }
    public double logRatioClamp() { return logRatioClamp; }
    public double klClamp() { return klClamp; }
    public double k3Clamp() { return k3Clamp; }
    public NonFinitePolicy nonFinitePolicy() { return nonFinitePolicy; }
    /** Metrics only: tokens with |A| &gt;= this are "large" in the clip fractions by advantage size. */
    public double clipfracAdvSplit() { return clipfracAdvSplit; }
    /** Fused kernels or the eager LibTorch reference. */
    public KernelBackend backend() { return backend; }
    /** Keep the autograd graph when the loss back-propagates into logp. */
    public boolean retainGraph() { return retainGraph; }

    /** True when the KL term is on. */
    public boolean klEnabled() {
        return klEstimator != KlEstimator.NONE;
    }

    @Override
    public String toString() {
        return "PolicyLossConfig{lossMode=" + lossMode + ", epsLow=" + epsLow + ", epsHigh=" + epsHigh
                + ", aaac=" + aaacNormalization.configName() + "[" + aaacEpsMin + ", " + aaacEpsMax + "]"
                + ", dualClip=" + dualClip + (dualClip ? "(c=" + dualClipC + ")" : "")
                + ", kl=" + klEstimator.configName() + "(beta=" + klBeta + ", " + klAggregation.configName() + ")"
                + ", entropyCoef=" + entropyCoef + ", aggregation=" + aggregation.configName()
                + ", clamps=" + logRatioClamp + "/" + klClamp + "/" + k3Clamp
                + ", nonFinite=" + nonFinitePolicy + ", backend=" + backend.configName() + "}";
    }

    /** Builder of {@link PolicyLossConfig}; {@link #build()} checks every value. */
    public static final class Builder {
        private String lossMode;
        private double epsLow;
        private double epsHigh;
        private AaacNormalization aaacNormalization;
        private double aaacEpsMin;
        private double aaacEpsMax;
        private boolean dualClip;
        private double dualClipC;
        private KlEstimator klEstimator;
        private double klBeta;
        private Aggregation klAggregation = null;
        private double entropyCoef;
        private Aggregation aggregation;
        private double logRatioClamp;
        private double klClamp;
        private double k3Clamp;
        private NonFinitePolicy nonFinitePolicy;
        private double clipfracAdvSplit;
        private KernelBackend backend = KernelBackend.FUSED;
        private boolean retainGraph = false;

        /** Starts from the {@code loss.*} defaults ({@link LossConfig}), with the KL aggregation following the loss's. */
        private Builder() {
            LossConfig d = LossConfig.defaults();
            lossMode = d.mode();
            epsLow = d.epsLow();
            epsHigh = d.epsHigh();
            aaacNormalization = d.aaacNorm();
            aaacEpsMin = d.aaacEpsMin();
            aaacEpsMax = d.aaacEpsMax();
            dualClip = d.dualClip();
            dualClipC = d.dualClipC();
            klEstimator = d.kl();
            klBeta = d.klBeta();
            entropyCoef = d.entropyCoef();
            aggregation = d.aggregation();
            logRatioClamp = d.logRatioClamp();
            klClamp = d.klClamp();
            k3Clamp = d.k3Clamp();
            nonFinitePolicy = d.nonFinite();
            clipfracAdvSplit = d.clipfracAdvSplit();
        }

        public Builder lossMode(String v) { lossMode = v; return this; }
        public Builder epsLow(double v) { epsLow = v; return this; }
        public Builder epsHigh(double v) { epsHigh = v; return this; }
        public Builder aaacNormalization(AaacNormalization v) { aaacNormalization = v; return this; }
        public Builder aaacEpsMin(double v) { aaacEpsMin = v; return this; }
        public Builder aaacEpsMax(double v) { aaacEpsMax = v; return this; }
        public Builder dualClip(boolean v) { dualClip = v; return this; }
        public Builder dualClipC(double v) { dualClipC = v; return this; }
        public Builder klEstimator(KlEstimator v) { klEstimator = v; return this; }
        public Builder klBeta(double v) { klBeta = v; return this; }
        /** Aggregation of the KL term; null (the default) means the same as {@link #aggregation}. */
        public Builder klAggregation(Aggregation v) { klAggregation = v; return this; }
        public Builder entropyCoef(double v) { entropyCoef = v; return this; }
        public Builder aggregation(Aggregation v) { aggregation = v; return this; }
        public Builder logRatioClamp(double v) { logRatioClamp = v; return this; }
        public Builder klClamp(double v) { klClamp = v; return this; }
        public Builder k3Clamp(double v) { k3Clamp = v; return this; }
        public Builder nonFinitePolicy(NonFinitePolicy v) { nonFinitePolicy = v; return this; }
        public Builder clipfracAdvSplit(double v) { clipfracAdvSplit = v; return this; }
        public Builder backend(KernelBackend v) { backend = v; return this; }
        public Builder retainGraph(boolean v) { retainGraph = v; return this; }

        /**
         * Checks the values and builds the config.
         *
         * @throws IllegalArgumentException naming the first field out of range
         */
        public PolicyLossConfig build() {
            if (lossMode == null || lossMode.isBlank()) {
                throw new IllegalArgumentException("lossMode: expected a registered loss name, got '" + lossMode + "'");
            }
            require("epsLow", epsLow, epsLow >= 0 && epsLow < 1, "in [0, 1)");
            require("epsHigh", epsHigh, epsHigh >= 0 && Double.isFinite(epsHigh), "finite and >= 0");
            require("aaacEpsMin", aaacEpsMin, aaacEpsMin >= 0 && Double.isFinite(aaacEpsMin), "finite and >= 0");
            require("aaacEpsMax", aaacEpsMax, aaacEpsMax >= aaacEpsMin && Double.isFinite(aaacEpsMax),
                    "finite and >= aaacEpsMin (" + aaacEpsMin + ")");
            require("dualClipC", dualClipC, dualClipC > 1 && Double.isFinite(dualClipC), "finite and > 1");
            require("klBeta", klBeta, klBeta >= 0 && Double.isFinite(klBeta), "finite and >= 0");
            require("entropyCoef", entropyCoef, Double.isFinite(entropyCoef), "finite");
            require("logRatioClamp", logRatioClamp, logRatioClamp > 0 && Double.isFinite(logRatioClamp), "finite and > 0");
            require("klClamp", klClamp, klClamp > 0 && Double.isFinite(klClamp), "finite and > 0");
            require("k3Clamp", k3Clamp, k3Clamp > 0 && Double.isFinite(k3Clamp), "finite and > 0");
            require("clipfracAdvSplit", clipfracAdvSplit, clipfracAdvSplit >= 0, ">= 0");
            if (aaacNormalization == null || klEstimator == null || aggregation == null || nonFinitePolicy == null
                    || backend == null) {
                throw new IllegalArgumentException("PolicyLossConfig: aaacNormalization, klEstimator, aggregation, "
                        + "nonFinitePolicy and backend must not be null");
            }
            return new PolicyLossConfig(this);
        }

        private static void require(String name, double value, boolean ok, String expected) {
            if (!ok) {
                throw new IllegalArgumentException(name + ": expected " + expected + ", got " + value);
            }
        }
    }
}
