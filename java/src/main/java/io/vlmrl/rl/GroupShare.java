package io.vlmrl.rl;

/**
 * Which groups of a generation batch a rank samples: the B groups are cut into one contiguous
 * share per rank, as equal as they can be ({@code [rank·B/N, (rank+1)·B/N)}). A group never spans
 * ranks, so group advantages need nothing from other ranks.
 *
 * @param groups    B, groups per generation batch
 * @param rank      this rank
 * @param worldSize N, the number of ranks
 */
public record GroupShare(int groups, int rank, int worldSize) {

    public GroupShare {
        if (groups < 1) throw new IllegalArgumentException("groups: expected >= 1, got " + groups);
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank: expected an integer in [0, " + (worldSize - 1) + "], got " + rank);
        }
    }

    /** The whole batch: one process. */
    public static GroupShare all(int groups) {
        return new GroupShare(groups, 0, 1);
    }

    /** The first group of {@code r}'s share. */
    public int first(int r) {
        return (int) ((long) r * groups / worldSize);
    }

    /** This rank's first group. */
    public int first() {
        return first(rank);
    }

    /** One past this rank's last group. */
    public int end() {
        return first(rank + 1);
    }

    /** Groups in this rank's share (0 when there are more ranks than groups). */
    public int count() {
        return end() - first();
    }

    /** The rank that samples group {@code group}. */
    public int owner(int group) {
        if (group < 0 || group >= groups) throw new IllegalArgumentException("group: expected [0, " + groups + "), got " + group);
        int r = (int) ((long) group * worldSize / groups);
        while (first(r + 1) <= group) r++;
        while (first(r) > group) r--;
        return r;
    }
}
