package io.vlmrl.train;

import io.vlmrl.data.RewardFunction;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.model.VlmConfig;
import io.vlmrl.sft.SftOptions;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every key a run's configuration may set, with its default and allowed values.
 * Formulas and names follow ALGORITHMS.md; the defaults of the loss section are the
 * {@code acpo} preset's (presets override them, see {@link Presets}). The rollout and
 * optimizer defaults are tuned so that {@code vlmrl train} finishes in minutes on 2 CPU cores.
 */
public final class ConfigSchema {

    public static final List<String> ADVANTAGES = List.of("grpo", "drgrpo", "rloo");
    public static final List<String> CLIP_MODES = List.of("ppo", "clip-higher", "aaac");
    public static final List<String> AAAC_NORMS = List.of("minmax", "zscore-cdf");
    public static final List<String> KL_ESTIMATORS = List.of("none", "k1", "k2", "k3");
    public static final List<String> AGGREGATIONS =
            List.of("token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm");
    public static final List<String> REUSE_KINDS = List.of("linear", "step", "cosine");
    public static final List<String> KERNELS = List.of("fused", "eager");
    public static final List<String> PRESETS = List.of("ppo", "grpo", "dapo", "acpo", "apo");

    private static final double INF = Double.MAX_VALUE;
    /** Model defaults come from {@link VlmConfig}'s builder, so that there is one default per field. */
    private static final VlmConfig MODEL = VlmConfig.builder().build();
    private static final SftOptions SFT = SftOptions.defaults();
    private static final Map<String, Setting> SETTINGS = build();

    private ConfigSchema() {}

    /** All settings by dotted key, in a stable, readable order. */
    public static Map<String, Setting> settings() {
        return SETTINGS;
    }

    /** The setting for {@code key}, or an error that names the unknown key. */
    public static Setting setting(String key) {
        Setting s = SETTINGS.get(key);
        if (s == null) {
            throw new IllegalArgumentException("unknown config key '" + key + "' (known keys: "
                    + String.join(", ", SETTINGS.keySet()) + ")");
        }
        return s;
    }

    private static Map<String, Setting> build() {
        Map<String, Setting> m = new LinkedHashMap<>();
        List<Setting> all = List.of(
                Setting.choice("preset", "acpo", PRESETS, "the preset the loss settings started from"),
                Setting.integer("seed", 7, 0, Integer.MAX_VALUE, "seed of every random number generator"),
                Setting.integer("steps", 500, 0, 1_000_000, "RL steps"),
                Setting.integer("threads", 2, 1, 256, "LibTorch intra-op threads"),
                Setting.choice("kernels", "fused", KERNELS, "fused native loss kernels or eager LibTorch ops"),
                Setting.integer("checkpoint.every", 10, 0, 1_000_000, "steps between checkpoints (0: only at the end)"),
                Setting.integer("eval.size", 400, 1, 1_000_000, "held-out problems for accuracy before/after"),

                Setting.integer("task.seed", 0, 0, Integer.MAX_VALUE, "seed of the built-in task's problems (fixes the held-out set)"),
                Setting.integer("task.min_difficulty", 1, 1, 3, "easiest difficulty level drawn"),
                Setting.integer("task.max_difficulty", 3, 1, 3, "hardest difficulty level drawn"),
                Setting.integer("task.grid_size", 4, 2, 16, "shapes sit on a grid_size x grid_size grid"),
                Setting.real("task.teacher_miss_rate", TaskConfig.DEFAULT_TEACHER_MISS_RATE, 0, 0.99,
                        "chance that the teacher of the SFT demonstrations overlooks each shape it counts (0: perfect)"),

                Setting.integer("model.image_size", MODEL.imageSize(), 8, 1024, "image side in pixels (task and model)"),
                Setting.integer("model.patch_size", MODEL.patchSize(), 1, 256, "vision patch side in pixels"),
                Setting.integer("model.vision_width", MODEL.visionWidth(), 8, 4096, "vision transformer width"),
                Setting.integer("model.vision_layers", MODEL.visionLayers(), 1, 64, "vision transformer blocks"),
                Setting.integer("model.merge_size", MODEL.mergeSize(), 1, 64, "side of the window of patches merged into one image token"),
                Setting.integer("model.hidden_size", MODEL.hiddenSize(), 8, 8192, "language model width"),
                Setting.integer("model.layers", MODEL.numLayers(), 1, 128, "language model decoder layers"),
                Setting.integer("model.heads", MODEL.numHeads(), 1, 128, "language model attention heads"),
                Setting.integer("model.intermediate_size", MODEL.intermediateSize(), 8, 65536, "SwiGLU MLP hidden size"),

                Setting.integer("sft.steps", SFT.steps(), 0, 1_000_000, "supervised warm-start steps"),
                Setting.real("sft.lr", SFT.lr(), 0, 1, "supervised warm-start learning rate"),
                Setting.integer("sft.batch_size", SFT.batchSize(), 1, 65536, "supervised warm-start batch size"),

                Setting.choice("loss.advantage", "grpo", ADVANTAGES, "advantage estimator"),
                Setting.choice("loss.clip_mode", "aaac", CLIP_MODES, "clip bounds"),
                Setting.real("loss.eps_low", 0.2, 0, 1, "lower clip: rho >= 1 - eps_low"),
                Setting.real("loss.eps_high", 0.2, 0, 10, "upper clip for ppo / clip-higher"),
                Setting.choice("loss.aaac_norm", "minmax", AAAC_NORMS, "AAAC advantage normalization"),
                Setting.real("loss.aaac_eps_min", 0.20, 0, 10, "AAAC eps_high at normalized advantage 0"),
                Setting.real("loss.aaac_eps_max", 0.32, 0, 10, "AAAC eps_high at normalized advantage 1"),
                Setting.flag("loss.dual_clip", false, "bound the loss of negative-advantage tokens by -A*c"),
                Setting.real("loss.dual_clip_c", 3.0, 1.0000001, 1e6, "dual clip constant c > 1"),
                Setting.choice("loss.kl", "none", KL_ESTIMATORS, "KL estimator to the reference policy"),
                Setting.real("loss.kl_beta", 0.0, 0, 1e3, "weight of the KL term"),
                Setting.choice("loss.kl_aggregation", "token-mean", AGGREGATIONS, "aggregation of the KL term"),
                Setting.choice("loss.aggregation", "token-mean", AGGREGATIONS, "aggregation of the policy loss"),
                Setting.real("loss.entropy_coef", 0.0, 0, 10, "entropy bonus coefficient"),
                Setting.flag("loss.dads", false, "DADS per-response KL weights (APO)"),
                Setting.real("loss.dads_kappa", Math.E, 1e-12, 1e3, "DADS kappa"),
                Setting.flag("loss.stcr", false, "STCR scaling of negative advantages (APO)"),
                Setting.real("loss.stcr_alpha", Math.log(1.00001), 1e-12, 1e3, "STCR alpha"),

                Setting.integer("rollout.prompts_per_step", 8, 1, 65536, "B: prompts (groups) per step"),
                Setting.integer("rollout.group_size", 8, 1, 1024, "G: responses per prompt"),
                Setting.integer("rollout.max_response_length", 10, 1, 65536, "longest response in tokens"),
                Setting.real("rollout.temperature", 1.0, 1e-3, 100, "sampling temperature"),
                Setting.real("rollout.top_p", 1.0, 1e-6, 1, "nucleus sampling mass"),
                Setting.integer("rollout.top_k", 0, 0, 1_000_000, "top-k sampling (0: off)"),

                // Below 1 - format weight, so that a right answer always outscores a wrong one. The
                // default 0.4 credits the exact facts of the built-in task's derivations (a verifiable
                // process reward) and keeps every wrong answer at or below the gate's tau = 0.5.
                Setting.real("reward.reasoning_weight", 0.4, 0, 1 - RewardFunction.DEFAULT_FORMAT_WEIGHT - 0.01,
                        "partial credit for the worked response's reasoning facts reproduced (0: answer + format only)"),

                Setting.flag("dapo.dynamic_sampling", false, "keep only groups whose rewards are not all equal"),
                Setting.flag("dapo.overlong_shaping", false, "add the overlong length penalty to the reward"),
                Setting.integer("dapo.overlong_max_length", 10, 1, 65536, "L_max of the overlong shaping"),
                Setting.integer("dapo.overlong_cache", 2, 0, 65536, "L_cache (soft margin) of the overlong shaping"),

                Setting.flag("curriculum.gate", true, "ACPO gating: keep groups with 0 < #{r > tau} <= n_max"),
                Setting.real("curriculum.tau", 0.5, -INF, INF, "reward threshold of a success"),
                Setting.integer("curriculum.n_max", -1, -1, 1024, "most successes a kept group may have (-1: G - 1)"),
                Setting.integer("curriculum.max_generation_batches", 3, 1, 1000,
                        "generation batches per step before training on what passed (gate or dynamic sampling)"),

                Setting.choice("reuse.kind", "linear", REUSE_KINDS, "shape of the reuse schedule K(t)"),
                Setting.integer("reuse.k_max", 2, 1, 100, "K_max: passes over a batch at the end of the ramp"),
                Setting.integer("reuse.t_ramp", 30, 0, 1_000_000, "T_ramp: steps until K reaches K_max"),

                Setting.real("optim.lr", 1e-5, 0, 1, "AdamW learning rate (RL)"),
                Setting.integer("optim.warmup_steps", 20, 0, 1_000_000,
                        "RL steps of linear learning-rate warm-up (a fresh AdamW's first updates are sign-like)"),
                Setting.real("optim.weight_decay", 0.0, 0, 10, "AdamW weight decay"),
                Setting.real("optim.beta1", 0.9, 0, 0.999999, "AdamW beta1"),
                Setting.real("optim.beta2", 0.999, 0, 0.999999, "AdamW beta2"),
                Setting.real("optim.grad_clip", 1.0, 0, 1e6, "max gradient norm (0: no clipping)"),
                Setting.integer("optim.mini_batch_size", 64, 1, 1 << 20, "responses per optimizer update"),
                Setting.integer("optim.micro_batch_size", 32, 1, 1 << 20, "responses per forward/backward")
        );
        for (Setting s : all) m.put(s.key(), s);
        return Collections.unmodifiableMap(m);
    }
}
