package io.vlmrl.rl;

import io.vlmrl.algo.Advantages;
import io.vlmrl.algo.DadsWeights;
import io.vlmrl.algo.StcrWeights;
import io.vlmrl.loss.LossConfig;

/**
 * Fills a {@link RolloutBatch}'s per-response advantages and APO weights (docs/algorithms.md:
 * "Advantages", "STCR", "DADS"): A_i from each group's rewards, then A_i ← w_i·A_i (STCR, when
 * on), then the KL weights λ_i (DADS, when on) from the shaped advantages, whose signs STCR
 * never changes.
 */
public final class AdvantageStage {

    private final LossConfig loss;
    private final int groupSize;

    public AdvantageStage(LossConfig loss, int groupSize) {
        this.loss = loss;
        this.groupSize = groupSize;
    }

    public void apply(RolloutBatch batch) {
        int n = batch.size();
        if (n == 0) return;
        double[] rewards = new double[n];
        double[] correct = new double[n];
        double[] lengths = new double[n];
        int row = 0;
        for (ScoredGroup group : batch.groups()) {
            for (int i = 0; i < group.size(); i++, row++) {
                rewards[row] = group.rewards()[i];
                correct[row] = group.correct()[i] ? 1.0 : 0.0;
                lengths[row] = group.length(i);
            }
        }
        double[] advantages = Advantages.compute(loss.advantage(), rewards, groupSize);
        if (loss.stcr()) {
            double[] w = StcrWeights.compute(correct, lengths, advantages, groupSize, loss.stcrAlpha());
            advantages = StcrWeights.apply(advantages, w);
            copy(w, batch.stcrWeights);
        }
        if (loss.dads()) {
            copy(DadsWeights.compute(correct, advantages, groupSize, loss.dadsKappa()), batch.klWeights);
        }
        copy(advantages, batch.advantages);
    }

    private static void copy(double[] from, float[] to) {
        for (int i = 0; i < from.length; i++) to[i] = (float) from[i];
    }
}
