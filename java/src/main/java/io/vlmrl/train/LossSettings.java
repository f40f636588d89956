package io.vlmrl.train;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.loss.AaacNormalization;
import io.vlmrl.loss.Aggregation;
import io.vlmrl.loss.KlEstimator;
import io.vlmrl.loss.PolicyLossConfig;

/** Turns the loss section of a {@link TrainConfig} into the loss library's {@link PolicyLossConfig}. */
public final class LossSettings {

    private LossSettings() {}

    public static PolicyLossConfig of(TrainConfig c) {
        return PolicyLossConfig.builder()
                .lossMode(c.clipMode())
                .epsLow(c.epsLow())
                .epsHigh(c.clipMode().equals("aaac") ? c.aaacEpsMax() : c.epsHigh())
                .aaacNormalization(AaacNormalization.parse(c.aaacNorm()))
                .aaacEpsMin(c.aaacEpsMin())
                .aaacEpsMax(c.aaacEpsMax())
                .dualClip(c.dualClip())
                .dualClipC(c.dualClipC())
                .klEstimator(KlEstimator.parse(c.kl()))
                .klBeta(c.klBeta())
                .klAggregation(Aggregation.parse(c.klAggregation()))
                .aggregation(Aggregation.parse(c.aggregation()))
                .entropyCoef(c.entropyCoef())
                .backend(c.fusedKernels() ? KernelBackend.FUSED : KernelBackend.EAGER)
                .build();
    }
}
