package io.vlmrl.rl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * How one pass over a rollout batch is cut: the responses are shuffled with the step's seeded
 * RNG, split into mini-batches (one optimizer update each) and each mini-batch into
 * micro-batches (one forward/backward each, gradients accumulated).
 */
public final class MiniBatchPlan {

    private final List<List<int[]>> miniBatches;

    private MiniBatchPlan(List<List<int[]>> miniBatches) {
        this.miniBatches = miniBatches;
    }

    /**
     * @param responses     number of responses in the rollout batch
     * @param miniBatchSize responses per optimizer update (the last mini-batch may be smaller)
     * @param microBatchSize responses per forward/backward
     * @param rng           shuffles the responses; null keeps their order
     */
    public static MiniBatchPlan shuffled(int responses, int miniBatchSize, int microBatchSize, Random rng) {
        if (responses < 0) throw new IllegalArgumentException("responses: expected >= 0, got " + responses);
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
        for (int start = 0; start < responses; start += miniBatchSize) {
            int end = Math.min(responses, start + miniBatchSize);
            List<int[]> micros = new ArrayList<>();
            for (int m = start; m < end; m += microBatchSize) {
                micros.add(Arrays.copyOfRange(order, m, Math.min(end, m + microBatchSize)));
            }
            minis.add(micros);
        }
        return new MiniBatchPlan(minis);
    }

    /** Mini-batches in update order; each is a list of micro-batches of response indices. */
    public List<List<int[]>> miniBatches() {
        return miniBatches;
    }

    /** All response indices of mini-batch {@code m}, in micro-batch order. */
    public int[] responsesOf(int m) {
        return miniBatches.get(m).stream().flatMapToInt(Arrays::stream).toArray();
    }
}
