package io.vlmrl.loss;

/**
 * The clipped policy loss behind the built-in {@code ppo}, {@code clip-higher} and {@code aaac}:
 * checks what the config needs and runs the backend the config selects.
 */
final class ClippedPolicyLoss {
    private ClippedPolicyLoss() {
    }

    static PolicyLossResult compute(PolicyLossInputs inputs, PolicyLossConfig config, ClipMode clip) {
        inputs.requireFor(config, clip);
        switch (config.backend()) {
            case FUSED: return FusedPolicyLoss.compute(inputs, config, clip);
            case EAGER: return EagerPolicyLoss.compute(inputs, config, clip);
            default: throw new IllegalArgumentException("backend: unknown " + config.backend());
        }
    }
}
