package io.vlmrl.rl;

import io.vlmrl.config.Schema;

/**
 * ACPO reuse schedule K(t): how many passes of mini-batch updates each gated rollout batch
 * gets at step t (docs/algorithms.md, "ACPO dynamic curriculum"). K = 1 is on-policy; K grows to
 * K_max over T_ramp steps.
 * <ul>
 *   <li>{@code linear}: {@code 1 + floor((K_max - 1) * min(1, t / T_ramp))}</li>
 *   <li>{@code step}: 1 before T_ramp, K_max from T_ramp on</li>
 *   <li>{@code cosine}: {@code 1 + floor((K_max - 1) * (1 - cos(pi * min(1, t / T_ramp))) / 2)}</li>
 * </ul>
 * T_ramp = 0 means K_max from the first step.
 */
public final class ReuseSchedule {

    /** The shape of K(t). */
    public enum Kind { LINEAR, STEP, COSINE }

    private final ReuseConfig config;

    public ReuseSchedule(ReuseConfig config) {
        this.config = Schema.check(config);
    }

    /** K(t) for step t (t = 0 is the first step). */
    public int passes(int t) {
        if (t < 0) throw new IllegalArgumentException("t: expected >= 0, got " + t);
        int kMax = config.kMax();
        int tRamp = config.tRamp();
        double progress = tRamp == 0 ? 1.0 : Math.min(1.0, (double) t / tRamp);
        switch (config.kind()) {
            case STEP:
                return progress >= 1.0 ? kMax : 1;
            case COSINE:
                return 1 + (int) Math.floor((kMax - 1) * (1 - Math.cos(Math.PI * progress)) / 2 + 1e-9);
            default:
                // (K_max - 1) * t / T_ramp in exact integer arithmetic: no floor() rounding surprises.
                return tRamp == 0 || t >= tRamp ? kMax : 1 + (int) ((long) (kMax - 1) * t / tRamp);
        }
    }
}
