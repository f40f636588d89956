package io.vlmrl.kernels;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/**
 * Argument checks shared by {@link TokenLogProbs} and its eager peer {@link EagerTokenLogProbs},
 * so both reject the same bad input with the same message. Each op adds its own checks
 * (accepted dtypes, memory layout) between these.
 */
final class TokenLogProbsArgs {
    private TokenLogProbsArgs() {}

    /** Both tensors are given and the logits are [N, V] or [B, T, V]. */
    static void requireLogitsRank(Tensor logits, Tensor targets) {
        TensorChecks.requireNonNull("logits", logits);
        TensorChecks.requireNonNull("targets", targets);
        if (logits.dim() != 2 && logits.dim() != 3) {
            throw new IllegalArgumentException("logits: expected 2 dimensions [N, V] or 3 dimensions [B, T, V], got shape "
                    + TensorChecks.shape(logits));
        }
    }

    /**
     * The targets are int64 ids shaped like the logits without their last dimension, on the
     * logits' device.
     *
     * @return that row shape ([N] or [B, T])
     */
    static long[] requireTargetsMatch(Tensor logits, Tensor targets) {
        long[] rowShape = Arrays.copyOf(TensorChecks.sizes(logits), (int) logits.dim() - 1);
        TensorChecks.requireShape("targets", targets, rowShape, "logits' shape without the last dimension");
        TensorChecks.requireDtype("targets", targets, ScalarType.Long);
        TensorChecks.requireSameDevice("targets", targets, "logits", logits);
        return rowShape;
    }

    /** The softmax temperature is finite and > 0. */
    static void requireTemperature(double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature: expected a finite value > 0, got " + temperature);
        }
    }
}
