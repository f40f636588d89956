package io.vlmrl.rl;

import io.vlmrl.dist.Collectives;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Draws generation batches until {@code target} groups pass a {@link GroupFilter} or
 * {@code maxBatches} batches have been drawn, then returns what passed (at most
 * {@code target}, the first ones in batch and group order) and the pass rate over every group seen.
 *
 * <p><b>Data parallel.</b> Each rank samples its {@link GroupShare} of every batch; after each
 * batch the ranks sum which groups passed, so every rank knows the global count and decides
 * alike whether to draw another batch and which groups are kept: the ACPO gate and DAPO dynamic
 * sampling count kept groups across all ranks, and no rank draws a batch the others do not. The
 * kept groups are those one process would keep; each rank holds its own of them.
 *
 * @param <G> a scored group of responses
 */
public final class GroupCollector<G> {

    /** The kept groups and the fraction of sampled groups that passed. */
    public static final class Result<G> {
        /** This rank's kept groups, in the global order. */
        public final List<G> kept;
        /** This rank's sampled groups (kept or not). */
        public final List<G> sampled;
        public final int batchesDrawn;
        /** Over every rank's sampled groups. */
        public final double passRate;
        /** The rank holding each kept group of the whole step, in the global order (its length is the global count). */
        public final int[] keptOwner;

        Result(List<G> kept, List<G> sampled, int batchesDrawn, double passRate, int[] keptOwner) {
            this.kept = kept;
            this.sampled = sampled;
            this.batchesDrawn = batchesDrawn;
            this.passRate = passRate;
            this.keptOwner = keptOwner;
        }
    }

    private final GroupFilter filter;
    private final Function<G, double[]> rewardsOf;
    private final int target;
    private final int maxBatches;
    private final Collectives world;
    private final GroupShare share;

    /**
     * One process; a batch may hold any number of groups.
     *
     * @param filter     which groups to keep
     * @param rewardsOf  a group's rewards, one per response
     * @param target     B: groups wanted
     * @param maxBatches most generation batches to draw (at least 1)
     */
    public GroupCollector(GroupFilter filter, Function<G, double[]> rewardsOf, int target, int maxBatches) {
        this(filter, rewardsOf, target, maxBatches, Collectives.single(), null);
    }

    /**
     * @param world the ranks that sample the batches together
     * @param share this rank's groups of each batch; every batch then returns exactly
     *              {@code share.count()} groups (null: one process, any number)
     */
    public GroupCollector(GroupFilter filter, Function<G, double[]> rewardsOf, int target, int maxBatches,
                          Collectives world, GroupShare share) {
        if (target < 1) throw new IllegalArgumentException("target: expected >= 1, got " + target);
        if (maxBatches < 1) throw new IllegalArgumentException("maxBatches: expected >= 1, got " + maxBatches);
        if (share == null && world.distributed()) {
            throw new IllegalArgumentException("share: expected this rank's groups of each batch (" + world.worldSize()
                    + " ranks), got none");
        }
        this.filter = filter;
        this.rewardsOf = rewardsOf;
        this.target = target;
        this.maxBatches = maxBatches;
        this.world = world;
        this.share = share;
    }

    /**
     * @param generateBatch generation batch number (0, 1, ...) → this rank's scored groups of it
     */
    public Result<G> collect(IntFunction<List<G>> generateBatch) {
        List<G> kept = new ArrayList<>();
        List<G> sampled = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        long seen = 0;
        long passed = 0;
        int batch = 0;
        while (batch < maxBatches && owners.size() < target) {
            List<G> mine = generateBatch.apply(batch);
            int first = share == null ? 0 : share.first();
            int groups = share == null ? mine.size() : share.groups();
            if (share != null && mine.size() != share.count()) {
                throw new IllegalStateException("generation batch " + batch + ": expected this rank's " + share.count()
                        + " groups, got " + mine.size());
            }
            long[] pass = new long[groups];
            for (int i = 0; i < mine.size(); i++) pass[first + i] = filter.keep(rewardsOf.apply(mine.get(i))) ? 1 : 0;
            if (world.distributed() && filter != GroupFilter.KEEP_ALL) {
                pass = world.sum("counting the groups that passed the gate", pass);
            } else if (world.distributed()) {
                java.util.Arrays.fill(pass, 1);
            }
            for (int j = 0; j < groups; j++) {
                seen++;
                if (pass[j] == 0) continue;
                passed++;
                if (owners.size() == target) continue;
                int owner = share == null ? world.rank() : share.owner(j);
                owners.add(owner);
                if (owner == world.rank()) kept.add(mine.get(j - first));
            }
            sampled.addAll(mine);
            batch++;
        }
        int[] keptOwner = owners.stream().mapToInt(Integer::intValue).toArray();
        return new Result<>(kept, sampled, batch, seen == 0 ? 0.0 : (double) passed / seen, keptOwner);
    }
}
