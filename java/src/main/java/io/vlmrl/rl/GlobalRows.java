package io.vlmrl.rl;

import io.vlmrl.dist.Collectives;
import io.vlmrl.loss.AdvantageStats;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

import java.util.Random;

/**
 * The responses of a step across every rank, as far as the update needs them to normalise
 * globally: each response's length (the loss denominators of every aggregation mode) and
 * advantage (AAAC's statistics), and which of them this rank holds. The rows are numbered in the
 * global order of the kept groups (group k's response i is row k·G + i), the order one process
 * would have them in. One exchange per step (a sum over the ranks, where each rank fills its own
 * rows) builds it; in one process it is the batch itself.
 */
final class GlobalRows {

    private final int[] localRow;
    private final int[] lengths;
    private final float[] advantages;
    private final int maxLength;

    private GlobalRows(int[] localRow, int[] lengths, float[] advantages, int maxLength) {
        this.localRow = localRow;
        this.lengths = lengths;
        this.advantages = advantages;
        this.maxLength = maxLength;
    }

    /** One process: every row is this process's. */
    static GlobalRows local(RolloutBatch batch) {
        int n = batch.size();
        int[] localRow = new int[n];
        int[] lengths = new int[n];
        for (int r = 0; r < n; r++) {
            localRow[r] = r;
            lengths[r] = batch.length(r);
        }
        return new GlobalRows(localRow, lengths, batch.advantages.clone(), batch.maxLength());
    }

    /**
     * The rows of every rank, after this rank's advantages are set.
     *
     * @param keptOwner the rank holding each kept group of the step, in the global order (this rank's
     *                  groups in {@code batch} are its entries, in the same order)
     * @param groupSize G, responses per group
     */
    static GlobalRows exchange(RolloutBatch batch, int[] keptOwner, int groupSize, Collectives world) {
        int n = keptOwner.length * groupSize;
        int[] localRow = new int[n];
        java.util.Arrays.fill(localRow, -1);
        double[] values = new double[2 * n]; // lengths, then advantages
        int mine = 0;
        for (int k = 0; k < keptOwner.length; k++) {
            if (keptOwner[k] != world.rank()) continue;
            if (batch.groups().get(mine).size() != groupSize) {
                throw new IllegalStateException("group " + k + ": expected " + groupSize + " responses, got "
                        + batch.groups().get(mine).size());
            }
            for (int i = 0; i < groupSize; i++) {
                int global = k * groupSize + i;
                int local = mine * groupSize + i;
                localRow[global] = local;
                values[global] = batch.length(local);
                values[n + global] = batch.advantages[local];
            }
            mine++;
        }
        if (mine != batch.groups().size()) {
            throw new IllegalStateException("batch: expected this rank's " + mine + " kept groups, got " + batch.groups().size());
        }
        values = world.sum("exchanging the response lengths and advantages", values);
        int[] lengths = new int[n];
        float[] advantages = new float[n];
        for (int r = 0; r < n; r++) {
            lengths[r] = (int) values[r];
            advantages[r] = (float) values[n + r];
        }
        return new GlobalRows(localRow, lengths, advantages, batch.maxLength());
    }

    /** Responses of the step, on every rank together. */
    int size() {
        return lengths.length;
    }

    /** This rank's part of a pass's plan; {@code rng} draws the same on every rank. */
    MiniBatchPlan plan(int miniBatchSize, int microBatchSize, Random rng) {
        return MiniBatchPlan.forRank(lengths, maxLength, localRow, miniBatchSize, microBatchSize, rng);
    }

    /** AAAC statistics of A over the valid tokens of every rank's responses. */
    AdvantageStats advantageStats() {
        try (PointerScope scope = new PointerScope()) {
            int n = size();
            float[] mask = new float[n * maxLength];
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < lengths[r]; k++) mask[r * maxLength + k] = 1f;
            }
            return AdvantageStats.of(torch.tensor(advantages), torch.tensor(mask).view(n, maxLength));
        }
    }
}
