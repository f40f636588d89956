package io.vlmrl.train;

/**
 * ACPO reuse schedule K(t): how many passes of mini-batch updates each gated rollout batch
 * gets at step t (ALGORITHMS.md, "ACPO dynamic curriculum"). K = 1 is on-policy; K grows to
 * K_max over T_ramp steps.
 * <ul>
 *   <li>{@code linear}: {@code 1 + floor((K_max - 1) * min(1, t / T_ramp))}</li>
 *   <li>{@code step}: 1 before T_ramp, K_max from T_ramp on</li>
 *   <li>{@code cosine}: {@code 1 + floor((K_max - 1) * (1 - cos(pi * min(1, t / T_ramp))) / 2)}</li>
 * </ul>
 * T_ramp = 0 means K_max from the first step.
 */
public final class ReuseSchedule {

    private final String kind;
    private final int kMax;
    private final int tRamp;

    public ReuseSchedule(String kind, int kMax, int tRamp) {
        if (!ConfigSchema.REUSE_KINDS.contains(kind)) {
            throw new IllegalArgumentException("reuse.kind: expected one of " + ConfigSchema.REUSE_KINDS + ", got '" + kind + "'");
        }
        if (kMax < 1) throw new IllegalArgumentException("reuse.k_max: expected >= 1, got " + kMax);
        if (tRamp < 0) throw new IllegalArgumentException("reuse.t_ramp: expected >= 0, got " + tRamp);
        this.kind = kind;
        this.kMax = kMax;
        this.tRamp = tRamp;
    }

    public static ReuseSchedule of(TrainConfig config) {
        return new ReuseSchedule(config.reuseKind(), config.reuseKMax(), config.reuseTRamp());
    }

    /** K(t) for step t (t = 0 is the first step). */
    public int passes(int t) {
        if (t < 0) throw new IllegalArgumentException("t: expected >= 0, got " + t);
        double progress = tRamp == 0 ? 1.0 : Math.min(1.0, (double) t / tRamp);
        switch (kind) {
            case "step":
                return progress >= 1.0 ? kMax : 1;
            case "cosine":
                return 1 + (int) Math.floor((kMax - 1) * (1 - Math.cos(Math.PI * progress)) / 2 + 1e-9);
            default:
                // (K_max - 1) * t / T_ramp in exact integer arithmetic: no floor() rounding surprises.
                return tRamp == 0 || t >= tRamp ? kMax : 1 + (int) ((long) (kMax - 1) * t / tRamp);
        }
    }
}
