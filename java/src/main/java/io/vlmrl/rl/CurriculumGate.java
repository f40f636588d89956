package io.vlmrl.rl;

/**
 * ACPO gating: a group is kept when {@code 0 < #{i : r_i > tau} <= N_max}. Groups that are
 * all wrong or (nearly) all right carry no signal (docs/algorithms.md, "ACPO dynamic curriculum").
 */
public final class CurriculumGate implements GroupFilter {

    private final double tau;
    private final int nMax;

    /**
     * @param tau  reward above which a response counts as a success (default 0.5)
     * @param nMax most successes a kept group may have (default G - 1), at least 1
     */
    public CurriculumGate(double tau, int nMax) {
        if (!Double.isFinite(tau)) throw new IllegalArgumentException("curriculum.tau: expected a finite number, got " + tau);
        if (nMax < 1) throw new IllegalArgumentException("curriculum.n_max: expected >= 1, got " + nMax);
        this.tau = tau;
        this.nMax = nMax;
    }

    @Override
    public boolean keep(double[] groupRewards) {
        int successes = 0;
        for (double r : groupRewards) {
            if (r > tau) successes++;
        }
        return successes > 0 && successes <= nMax;
    }
}
