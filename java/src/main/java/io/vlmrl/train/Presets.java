package io.vlmrl.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The algorithm presets of ALGORITHMS.md ("Presets" table). Each preset sets every loss,
 * filtering and reuse key explicitly, so a preset means the same thing whatever the
 * schema defaults are; any of them can still be overridden by the run's configuration.
 */
public final class Presets {

    private Presets() {}

    /** The key/value pairs of preset {@code name}. */
    public static Map<String, Object> values(String name) {
        Map<String, Object> v = common();
        switch (name) {
            case "ppo":
                break;
            case "grpo":
                v.put("loss.kl", "k3");
                v.put("loss.kl_beta", 1e-3);
                v.put("loss.aggregation", "seq-mean-token-mean");
                v.put("loss.kl_aggregation", "seq-mean-token-mean");
                break;
            case "dapo":
                v.put("loss.clip_mode", "clip-higher");
                v.put("loss.eps_low", 0.2);
                v.put("loss.eps_high", 0.28);
                v.put("dapo.dynamic_sampling", true);
                v.put("dapo.overlong_shaping", true);
                break;
            case "acpo":
                v.put("loss.clip_mode", "aaac");
                v.put("curriculum.gate", true);
                v.put("reuse.k_max", 2);
                break;
            case "apo":
                v.put("loss.kl", "k3");
                v.put("loss.kl_beta", 1e-3);
                v.put("loss.dads", true);
                // "KL: per response, then mean": each response's mean KL, averaged over responses.
                v.put("loss.kl_aggregation", "seq-mean-token-mean");
                v.put("loss.stcr", true);
                break;
            default:
                throw new IllegalArgumentException("preset: expected one of " + ConfigSchema.PRESETS
                        + ", got '" + name + "'");
        }
        v.put("preset", name);
        return v;
    }

    /** The ppo row: grpo advantages, ppo clip, no KL, token-mean, no extras. */
    private static Map<String, Object> common() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("loss.advantage", "grpo");
        v.put("loss.clip_mode", "ppo");
        v.put("loss.eps_low", 0.2);
        v.put("loss.eps_high", 0.2);
        v.put("loss.dual_clip", false);
        v.put("loss.kl", "none");
        v.put("loss.kl_beta", 0.0);
        v.put("loss.kl_aggregation", "token-mean");
        v.put("loss.aggregation", "token-mean");
        v.put("loss.dads", false);
        v.put("loss.stcr", false);
        v.put("dapo.dynamic_sampling", false);
        v.put("dapo.overlong_shaping", false);
        v.put("curriculum.gate", false);
        v.put("reuse.k_max", 1);
        return v;
    }
}
