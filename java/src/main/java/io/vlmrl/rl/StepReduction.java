package io.vlmrl.rl;

import io.vlmrl.dist.Collectives;
import io.vlmrl.loss.ClipClasses;
import io.vlmrl.loss.PolicyLossMetrics;

import java.util.List;

/**
 * A step's numbers over every rank, for its metrics: the rollout statistics, the loss metric
 * sums, the APO weights and the counts of each rank are summed before any division (the longest
 * response is a maximum), in two collectives per step, so the logged metrics are those of the
 * whole step, as one process would log them. The optimizer's decisions (updates, skipped updates,
 * gradient norms) are already the same on every rank.
 */
final class StepReduction {

    /** The step's numbers over every rank. */
    record Totals(RolloutStats rollout, PolicyUpdater.Outcome outcome, double dadsLambdaMean, double stcrWeightMean,
                  long rewardErrors) {
    }

    private StepReduction() {
    }

    /**
     * @param sampled      this rank's sampled groups
     * @param outcome      this rank's share of the update
     * @param batch        this rank's kept responses
     * @param rewardErrors responses this rank's failing reward scored 0
     */
    static Totals of(List<ScoredGroup> sampled, PolicyUpdater.Outcome outcome, RolloutBatch batch, long rewardErrors,
                     Collectives world) {
        int passes = outcome.passMetrics.size();
        double[] rollout = RolloutStats.sums(sampled);
        double[] v = new double[RolloutStats.SUMS + METRICS + 2 + 2 * passes + 5];
        int at = 0;
        for (double x : rollout) v[at++] = x;
        at = put(v, at, outcome.metrics);
        v[at++] = outcome.meanPgLoss;
        v[at++] = outcome.meanKlLoss;
        for (PolicyLossMetrics p : outcome.passMetrics) {
            v[at++] = p.sumRatio();
            v[at++] = p.validTokens();
        }
        v[at++] = outcome.trainedTokens;
        v[at++] = sum(batch.klWeights);
        v[at++] = sum(batch.stcrWeights);
        v[at++] = batch.size();
        v[at++] = rewardErrors;
        double longest = RolloutStats.maxLength(sampled);
        if (world.distributed()) {
            v = world.sum("summing the step's metrics", v);
            longest = world.max("taking the longest response", new double[] {longest})[0];
        }
        at = 0;
        double[] rolloutSums = new double[RolloutStats.SUMS];
        for (int i = 0; i < rolloutSums.length; i++) rolloutSums[i] = v[at++];
        PolicyUpdater.Outcome total = new PolicyUpdater.Outcome();
        total.metrics = metrics(v, at, world.distributed() ? v[at + METRICS - 1] > 0 : outcome.metrics.hasEntropy());
        at += METRICS;
        total.meanPgLoss = v[at++];
        total.meanKlLoss = v[at++];
        for (int p = 0; p < passes; p++) {
            double ratio = v[at++];
            double tokens = v[at++];
            total.passMeanRatio.add(tokens == 0 ? 1.0 : ratio / tokens);
        }
        total.trainedTokens = (long) v[at++];
        double klSum = v[at++];
        double stcrSum = v[at++];
        double responses = v[at++];
        long errors = (long) v[at++];
        total.meanGradNorm = outcome.meanGradNorm;
        total.updates = outcome.updates;
        total.skippedUpdates = outcome.skippedUpdates;
        if (!world.distributed()) {
            // One process: the update's own numbers, exactly.
            total.metrics = outcome.metrics;
            total.passMeanRatio.clear();
            total.passMeanRatio.addAll(outcome.passMeanRatio);
        }
        return new Totals(RolloutStats.fromSums(rolloutSums, longest), total,
                responses == 0 ? 1.0 : klSum / responses, responses == 0 ? 1.0 : stcrSum / responses, errors);
    }

    /** Values {@link #put} writes: the sums of a {@link PolicyLossMetrics}, whether it has an entropy, its clip classes. */
    private static final int METRICS = 15 + ClipClasses.SIZE;

    private static int put(double[] v, int at, PolicyLossMetrics m) {
        double[] fields = {m.loss(), m.pgLoss(), m.klLoss(), m.entropyLoss(), m.validTokens(), m.clipUpper(), m.clipLower(),
                m.dualClip(), m.sumPpoKl(), m.sumKl(), m.sumEpsHigh(), m.sumRatio(), m.sumEntropy(), m.nonFiniteTokens(),
                m.hasEntropy() ? 1 : 0};
        System.arraycopy(fields, 0, v, at, fields.length);
        System.arraycopy(m.clipClasses().toArray(), 0, v, at + fields.length, ClipClasses.SIZE);
        return at + METRICS;
    }

    private static PolicyLossMetrics metrics(double[] v, int at, boolean hasEntropy) {
        return new PolicyLossMetrics(v[at], v[at + 1], v[at + 2], v[at + 3], (long) v[at + 4], (long) v[at + 5],
                (long) v[at + 6], (long) v[at + 7], v[at + 8], v[at + 9], v[at + 10], v[at + 11], v[at + 12],
                (long) v[at + 13], hasEntropy, ClipClasses.fromArray(v, at + 15));
    }

    private static double sum(float[] values) {
        double s = 0;
        for (float x : values) s += x;
        return s;
    }
}
