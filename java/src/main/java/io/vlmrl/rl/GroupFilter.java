package io.vlmrl.rl;

/**
 * Decides from a group's rewards whether the group is kept for training: the ACPO gate
 * ({@link CurriculumGate}) or DAPO dynamic sampling ({@link DynamicSamplingFilter}).
 */
public interface GroupFilter {

    /** true when the group with these rewards (one per response) carries a learning signal. */
    boolean keep(double[] groupRewards);

    /** Keeps every group: no gate and no dynamic sampling. */
    GroupFilter KEEP_ALL = rewards -> true;

    /** The filter the {@code curriculum.*} keys ask for (the gate wins if both are on). */
    static GroupFilter of(CurriculumConfig config, int groupSize) {
        if (config.gate()) return new CurriculumGate(config.tau(), config.nMaxFor(groupSize));
        if (config.dynamicSampling()) return new DynamicSamplingFilter();
        return KEEP_ALL;
    }
}
