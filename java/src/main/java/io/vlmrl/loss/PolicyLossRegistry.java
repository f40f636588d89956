package io.vlmrl.loss;

import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;

/**
 * Policy losses by name, like verl's {@code register_policy_loss} / {@code get_policy_loss_fn}.
 * Built in: {@code ppo}, {@code clip-higher}, {@code aaac} (the clipped loss on the fused kernels
 * or, with {@code backend = EAGER}, on the LibTorch reference). Register a custom loss once at
 * start-up and select it with {@code PolicyLossConfig.lossMode}:
 * <pre>{@code
 * PolicyLossRegistry.register("ppo-no-dual", (in, cfg) ->
 *         PolicyLossRegistry.get("ppo").compute(in, cfg.toBuilder().dualClip(false).build()));
 * }</pre>
 */
public final class PolicyLossRegistry {
    private static final Map<String, PolicyLossFunction> LOSSES = new ConcurrentHashMap<>();

    static {
        LOSSES.put("ppo", (in, cfg) -> ClippedPolicyLoss.compute(in, cfg, ClipMode.PPO));
        LOSSES.put("clip-higher", (in, cfg) -> ClippedPolicyLoss.compute(in, cfg, ClipMode.CLIP_HIGHER));
        LOSSES.put("aaac", (in, cfg) -> ClippedPolicyLoss.compute(in, cfg, ClipMode.AAAC));
    }

    private PolicyLossRegistry() {
    }

    /**
     * Registers a loss under a new name.
     *
     * @throws IllegalArgumentException when the name is blank or already taken
     */
    public static void register(String name, PolicyLossFunction loss) {
        if (name == null || name.isBlank() || loss == null) {
            throw new IllegalArgumentException("register: expected a name and a function, got '" + name + "', " + loss);
        }
        if (LOSSES.putIfAbsent(name, loss) != null) {
            throw new IllegalArgumentException("register: a policy loss named '" + name + "' is already registered");
        }
    }

    /**
     * The loss registered as {@code name}.
     *
     * @throws IllegalArgumentException naming the registered losses when there is none
     */
    public static PolicyLossFunction get(String name) {
        PolicyLossFunction loss = name == null ? null : LOSSES.get(name);
        if (loss == null) {
            throw new IllegalArgumentException("lossMode: expected one of " + names() + ", got '" + name + "'");
        }
        return loss;
    }

    /** The registered names, sorted. */
    public static Set<String> names() {
        return new TreeSet<>(LOSSES.keySet());
    }
}
