package io.vlmrl.rl;

import io.vlmrl.loss.Denominators;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * How one pass over a step's responses is cut: the responses of the whole step (every rank's) are
 * shuffled with the step's seeded RNG and split into mini-batches (one optimizer update each);
 * each rank takes its own responses of each mini-batch, in that order, and splits them into
 * micro-batches (one forward/backward each, gradients accumulated). Every rank therefore makes the
 * same number of updates, and each mini-batch's {@link Denominators} count the responses of every
 * rank, so the summed gradients are the single-process gradient of the mini-batch.
 */
public final class MiniBatchPlan {

    private final List<List<int[]>> miniBatches;
    private final List<Denominators> denominators;

    private MiniBatchPlan(List<List<int[]>> miniBatches, List<Denominators> denominators) {
        this.miniBatches = miniBatches;
        this.denominators = denominators;
    }

    /**
     * One process: every response is this process's.
     *
     * @param lengths   valid tokens of each response
     * @param maxLength T, the padded response length (L_max of seq-mean-token-sum-norm)
     */
    public static MiniBatchPlan shuffled(int[] lengths, int maxLength, int miniBatchSize, int microBatchSize, Random rng) {
        int[] identity = new int[lengths.length];
        for (int i = 0; i < identity.length; i++) identity[i] = i;
        return forRank(lengths, maxLength, identity, miniBatchSize, microBatchSize, rng);
    }

    /**
     * This rank's part of the plan of a step.
     *
     * @param lengths        valid tokens of each response of the step (all ranks'), in the global order
     * @param maxLength      T, the padded response length
     * @param localRow       for each response of the step, its row in this rank's batch, or -1 when another rank holds it
     * @param miniBatchSize  responses per optimizer update (the last mini-batch may be smaller)
     * @param microBatchSize responses per forward/backward
     * @param rng            shuffles the responses (the same draws on every rank); null keeps their order
     */
    public static MiniBatchPlan forRank(int[] lengths, int maxLength, int[] localRow, int miniBatchSize, int microBatchSize,
                                        Random rng) {
        int responses = lengths.length;
        if (localRow.length != responses) {
            throw new IllegalArgumentException("localRow: expected one entry per response (" + responses + "), got " + localRow.length);
        }
        if (miniBatchSize < 1) throw new IllegalArgumentException("miniBatchSize: expected >= 1, got " + miniBatchSize);
        if (microBatchSize < 1) throw new IllegalArgumentException("microBatchSize: expected >= 1, got " + microBatchSize);
        int[] order = new int[responses];
        for (int i = 0; i < responses; i++) order[i] = i;
        if (rng != null) {
            for (int i = responses - 1; i > 0; i--) { // Fisher-Yates
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        List<List<int[]>> minis = new ArrayList<>();
        List<Denominators> denominators = new ArrayList<>();
        for (int start = 0; start < responses; start += miniBatchSize) {
            int end = Math.min(responses, start + miniBatchSize);
            long tokens = 0;
            long nonEmpty = 0;
            int[] mine = new int[end - start];
            int count = 0;
            for (int k = start; k < end; k++) {
                int r = order[k];
                tokens += lengths[r];
                if (lengths[r] > 0) nonEmpty++;
                if (localRow[r] >= 0) mine[count++] = localRow[r];
            }
            denominators.add(new Denominators(tokens, nonEmpty, end - start, maxLength));
            List<int[]> micros = new ArrayList<>();
            for (int m = 0; m < count; m += microBatchSize) {
                micros.add(Arrays.copyOfRange(mine, m, Math.min(count, m + microBatchSize)));
            }
            minis.add(micros);
        }
        return new MiniBatchPlan(minis, denominators);
    }

    /**
     * Mini-batches in update order; each is a list of micro-batches of this rank's response
     * indices (empty when this rank holds none of the mini-batch's responses).
     */
    public List<List<int[]>> miniBatches() {
        return miniBatches;
    }

    /** The denominators of mini-batch {@code m}: its responses on every rank. */
    public Denominators denominators(int m) {
        return denominators.get(m);
    }

    /** This rank's response indices of mini-batch {@code m}, in micro-batch order. */
    public int[] responsesOf(int m) {
        return miniBatches.get(m).stream().flatMapToInt(Arrays::stream).toArray();
    }
}
