package io.vlmrl.algo;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Group-relative advantage estimators (docs/algorithms.md, "Advantages"), by name:
 * <ul>
 *   <li>{@code grpo}: (r_i - mean) / (std + 1e-6), std unbiased (divides by G - 1); G = 1 gives 0;</li>
 *   <li>{@code drgrpo}: r_i - mean (Dr. GRPO, no std division);</li>
 *   <li>{@code rloo}: r_i - mean of the other G - 1 rewards; G = 1 gives 0 (no other response).</li>
 * </ul>
 * Batches hold their groups one after the other: responses [g * G, (g + 1) * G) form group g.
 */
public final class Advantages {
    /** The epsilon added to the std of {@code grpo}. */
    public static final double GRPO_EPS = 1e-6;

    private static final Map<String, AdvantageEstimator> ESTIMATORS = new ConcurrentHashMap<>();

    static {
        ESTIMATORS.put("grpo", Advantages::grpo);
        ESTIMATORS.put("drgrpo", Advantages::drgrpo);
        ESTIMATORS.put("rloo", Advantages::rloo);
    }

    private Advantages() {
    }

    /**
     * The estimator registered as {@code name}.
     *
     * @throws IllegalArgumentException naming the known estimators
     */
    public static AdvantageEstimator get(String name) {
        AdvantageEstimator e = name == null ? null : ESTIMATORS.get(name);
        if (e == null) {
            throw new IllegalArgumentException("advantage: expected one of " + names() + ", got '" + name + "'");
        }
        return e;
    }

    /** Registers another estimator; the name must be new. */
    public static void register(String name, AdvantageEstimator estimator) {
        if (name == null || name.isBlank() || estimator == null) {
            throw new IllegalArgumentException("register: expected a name and an estimator, got '" + name + "'");
        }
        if (ESTIMATORS.putIfAbsent(name, estimator) != null) {
            throw new IllegalArgumentException("register: an advantage estimator named '" + name + "' already exists");
        }
    }

    /** The registered names, sorted. */
    public static Set<String> names() {
        return new TreeSet<>(ESTIMATORS.keySet());
    }

    /**
     * Advantages of a batch of groups with the named estimator.
     *
     * @param rewards groups of {@code groupSize} consecutive rewards
     */
    public static double[] compute(String name, double[] rewards, int groupSize) {
        AdvantageEstimator estimator = get(name);
        int groups = Groups.count("rewards", rewards.length, groupSize);
        Groups.finite("rewards", rewards);
        double[] out = new double[rewards.length];
        for (int g = 0; g < groups; g++) {
            double[] a = estimator.group(Groups.slice(rewards, g, groupSize));
            System.arraycopy(a, 0, out, g * groupSize, groupSize);
        }
        return out;
    }

    /** GRPO advantages of one group. */
    public static double[] grpo(double[] rewards) {
        int n = rewards.length;
        double[] out = new double[n];
        if (n < 2) {
            return out;
        }
        double mean = mean(rewards);
        double ss = 0;
        for (double r : rewards) {
            ss += (r - mean) * (r - mean);
        }
        double std = Math.sqrt(ss / (n - 1));
        for (int i = 0; i < n; i++) {
            out[i] = (rewards[i] - mean) / (std + GRPO_EPS);
        }
        return out;
    }

    /** Dr. GRPO advantages of one group. */
    public static double[] drgrpo(double[] rewards) {
        double mean = mean(rewards);
        double[] out = new double[rewards.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = rewards[i] - mean;
        }
        return out;
    }

    /** RLOO advantages of one group. */
    public static double[] rloo(double[] rewards) {
        int n = rewards.length;
        double[] out = new double[n];
        if (n < 2) {
            return out;
        }
        double sum = 0;
        for (double r : rewards) {
            sum += r;
        }
        for (int i = 0; i < n; i++) {
            out[i] = rewards[i] - (sum - rewards[i]) / (n - 1);
        }
        return out;
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return values.length == 0 ? 0 : sum / values.length;
    }
}
