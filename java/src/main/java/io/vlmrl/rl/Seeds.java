package io.vlmrl.rl;

/**
 * Derives every random seed of a run from (run seed, step, purpose, ...), so a step's randomness
 * does not depend on what ran before it: a resumed run draws exactly what an uninterrupted one
 * would, with no RNG state to save. A group's prompt and responses are seeded per (seed, step,
 * generation batch, group), never per process, so a data-parallel run, whose ranks each sample a
 * share of a batch's groups, samples what one process samples.
 */
public final class Seeds {

    /** What a derived seed is for; each purpose gets an independent stream. */
    public enum Purpose { PROMPTS, SAMPLING, SHUFFLE, TORCH }

    private Seeds() {}

    /** The seed for {@code purpose} at {@code step} (and generation batch {@code sub}). */
    public static long of(long runSeed, int step, Purpose purpose, int sub) {
        return mix(runSeed, step, purpose.ordinal(), sub);
    }

    /** The seed for {@code purpose} of group {@code group} (0..B-1) of generation batch {@code batch} at {@code step}. */
    public static long of(long runSeed, int step, Purpose purpose, int batch, int group) {
        return mix(runSeed, step, purpose.ordinal(), batch, group);
    }

    private static long mix(long runSeed, long... inputs) {
        long z = runSeed;
        for (long v : inputs) {
            z = (z ^ v) * 0x9e3779b97f4a7c15L + 0x632be59bd9b4e019L; // SplitMix64 finaliser per input
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            z ^= z >>> 31;
        }
        return z;
    }
}
