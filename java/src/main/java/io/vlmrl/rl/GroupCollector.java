package io.vlmrl.rl;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.Function;

/**
 * Draws generation batches until {@code target} groups pass a {@link GroupFilter} or
 * {@code maxBatches} batches have been drawn, then returns what passed (at most
 * {@code target}) and the pass rate over every group seen.
 *
 * @param <G> a scored group of responses
 */
public final class GroupCollector<G> {

    /** The kept groups and the fraction of sampled groups that passed. */
    public static final class Result<G> {
        public final List<G> kept;
        public final List<G> sampled;
        public final int batchesDrawn;
        public final double passRate;

        Result(List<G> kept, List<G> sampled, int batchesDrawn, double passRate) {
            this.kept = kept;
            this.sampled = sampled;
            this.batchesDrawn = batchesDrawn;
            this.passRate = passRate;
        }
    }

    private final GroupFilter filter;
    private final Function<G, double[]> rewardsOf;
    private final int target;
    private final int maxBatches;

    /**
     * @param filter     which groups to keep
     * @param rewardsOf  a group's rewards, one per response
     * @param target     B: groups wanted
     * @param maxBatches most generation batches to draw (at least 1)
     */
    public GroupCollector(GroupFilter filter, Function<G, double[]> rewardsOf, int target, int maxBatches) {
        if (target < 1) throw new IllegalArgumentException("target: expected >= 1, got " + target);
        if (maxBatches < 1) throw new IllegalArgumentException("maxBatches: expected >= 1, got " + maxBatches);
        this.filter = filter;
        this.rewardsOf = rewardsOf;
        this.target = target;
        this.maxBatches = maxBatches;
    }

    /**
     * @param generateBatch generation batch number (0, 1, ...) → its scored groups
     */
    public Result<G> collect(IntFunction<List<G>> generateBatch) {
        List<G> kept = new ArrayList<>();
        List<G> sampled = new ArrayList<>();
        int seen = 0;
        int passed = 0;
        int batch = 0;
        while (batch < maxBatches && kept.size() < target) {
            for (G group : generateBatch.apply(batch)) {
                sampled.add(group);
                seen++;
                if (filter.keep(rewardsOf.apply(group))) {
                    passed++;
                    if (kept.size() < target) kept.add(group);
                }
            }
            batch++;
        }
        return new Result<>(kept, sampled, batch, seen == 0 ? 0.0 : (double) passed / seen);
    }
}
