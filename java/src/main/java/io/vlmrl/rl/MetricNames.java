package io.vlmrl.rl;

import java.util.List;

/** The metric names logged each step (docs/algorithms.md, "Metrics"), in log order. */
public final class MetricNames {

    public static final String PG_LOSS = "pg_loss";
    public static final String PG_CLIPFRAC = "pg_clipfrac";
    public static final String PG_CLIPFRAC_HIGHER = "pg_clipfrac_higher";
    public static final String PG_CLIPFRAC_LOWER = "pg_clipfrac_lower";
    public static final String PG_CLIPFRAC_HIGHER_ADV_LARGE = "pg_clipfrac_higher/adv_large";
    public static final String PG_CLIPFRAC_HIGHER_ADV_SMALL = "pg_clipfrac_higher/adv_small";
    public static final String PG_CLIPFRAC_LOWER_ADV_LARGE = "pg_clipfrac_lower/adv_large";
    public static final String PG_CLIPFRAC_LOWER_ADV_SMALL = "pg_clipfrac_lower/adv_small";
    public static final String ADV_LARGE_FRAC = "adv_large/frac";
    public static final String DUAL_CLIPFRAC = "dual_clipfrac";
    public static final String PPO_KL = "ppo_kl";
    public static final String KL_LOSS = "kl_loss";
    public static final String ENTROPY = "entropy";
    public static final String GRAD_NORM = "grad_norm";
    public static final String SKIPPED_UPDATES = "optim/skipped_updates";
    public static final String REWARD_MEAN = "reward/mean";
    public static final String REWARD_STD = "reward/std";
    public static final String REWARD_ERRORS = "reward/errors";
    public static final String ACCURACY = "accuracy";
    public static final String LENGTH_MEAN = "response_length/mean";
    public static final String LENGTH_MAX = "response_length/max";
    public static final String LENGTH_CLIP_RATIO = "response_length/clip_ratio";
    public static final String EPS_HIGH_MEAN = "eps_high/mean";
    public static final String DADS_LAMBDA_MEAN = "dads_lambda/mean";
    public static final String STCR_WEIGHT_MEAN = "stcr_weight/mean";
    public static final String REUSE_K = "reuse_k";
    public static final String GATE_PASS_RATE = "gate/pass_rate";
    public static final String STEP_TIME = "time/step_s";
    public static final String TOKENS_PER_S = "throughput/tokens_per_s";

    /** Every metric logged each step. */
    public static final List<String> ALL = List.of(
            PG_LOSS, PG_CLIPFRAC, PG_CLIPFRAC_HIGHER, PG_CLIPFRAC_LOWER, PG_CLIPFRAC_HIGHER_ADV_LARGE,
            PG_CLIPFRAC_HIGHER_ADV_SMALL, PG_CLIPFRAC_LOWER_ADV_LARGE, PG_CLIPFRAC_LOWER_ADV_SMALL, ADV_LARGE_FRAC,
            DUAL_CLIPFRAC, PPO_KL, KL_LOSS,
            ENTROPY, GRAD_NORM, SKIPPED_UPDATES, REWARD_MEAN, REWARD_STD, REWARD_ERRORS, ACCURACY, LENGTH_MEAN, LENGTH_MAX,
            LENGTH_CLIP_RATIO, EPS_HIGH_MEAN, DADS_LAMBDA_MEAN, STCR_WEIGHT_MEAN, REUSE_K,
            GATE_PASS_RATE, STEP_TIME, TOKENS_PER_S);

    /** Metrics that depend on wall-clock time (excluded when comparing two runs for equality). */
    public static final List<String> TIMING = List.of(STEP_TIME, TOKENS_PER_S);

    private MetricNames() {}
}
