package io.vlmrl.run;

import io.vlmrl.loss.PolicyLossConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The algorithm presets (docs/algorithms.md, "Presets"), each a partial override of the key
 * defaults, which are the {@code ppo} preset's, and the ablations of ACPO and APO (the preset with
 * one mechanism off). A run's configuration is its preset plus the keys it changes; config.yaml
 * records exactly that.
 */
public final class Presets {

    private static final Map<String, Map<String, Object>> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("ppo", Map.of());
        PRESETS.put("grpo", Map.of(
                "loss.kl", "k3",
                "loss.kl_beta", 1e-3,
                "loss.aggregation", "seq-mean-token-mean",
                "loss.kl_aggregation", "seq-mean-token-mean"));
        PRESETS.put("dapo", Map.of(
                "loss.mode", "clip-higher",
                "loss.eps_high", PolicyLossConfig.DAPO_EPS_HIGH,
                "curriculum.dynamic_sampling", true,
                "reward.overlong_shaping", true));
        PRESETS.put("acpo", Map.of(
                "loss.mode", "aaac",
                "curriculum.gate", true,
                "reuse.k_max", 2));
        PRESETS.put("apo", Map.of(
                "loss.kl", "k3",
                "loss.kl_beta", 1e-3,
                "loss.dads", true,
                // "KL: per response, then mean": each response's mean KL, averaged over responses.
                "loss.kl_aggregation", "seq-mean-token-mean",
                "loss.stcr", true));
        // Ablations: a preset with one of its mechanisms switched off, to show what each adds.
        PRESETS.put("acpo-no-aaac", with("acpo", "loss.mode", "ppo"));
        PRESETS.put("acpo-no-gate", with("acpo", "curriculum.gate", false));
        PRESETS.put("acpo-no-reuse", with("acpo", "reuse.k_max", 1));
        PRESETS.put("apo-no-dads", with("apo", "loss.dads", false));
        PRESETS.put("apo-no-stcr", with("apo", "loss.stcr", false));
    }

    /** Preset {@code base} with one key changed. */
    private static Map<String, Object> with(String base, String key, Object value) {
        Map<String, Object> v = new LinkedHashMap<>(PRESETS.get(base));
        v.put(key, value);
        return Map.copyOf(v);
    }

    private Presets() {}

    /** The preset names ({@code preset} accepts them). */
    public static Set<String> names() {
        return new TreeSet<>(PRESETS.keySet());
    }

    /**
     * The keys preset {@code name} sets, with their values (as on the command line).
     *
     * @throws IllegalArgumentException naming the presets when there is no such preset
     */
    public static Map<String, Object> values(String name) {
        Map<String, Object> v = PRESETS.get(name);
        if (v == null) {
            throw new IllegalArgumentException("config key 'preset': expected one of " + names() + ", got '" + name + "'");
        }
        return new LinkedHashMap<>(v);
    }
}
