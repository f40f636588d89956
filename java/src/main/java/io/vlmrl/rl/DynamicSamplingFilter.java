package io.vlmrl.rl;

/**
 * DAPO dynamic sampling: a group is kept unless all its rewards are equal (then every
 * advantage is 0 and the group contributes no gradient).
 */
public final class DynamicSamplingFilter implements GroupFilter {

    @Override
    public boolean keep(double[] groupRewards) {
        for (double r : groupRewards) {
            if (Double.compare(r, groupRewards[0]) != 0) return true;
        }
        return false;
    }
}
