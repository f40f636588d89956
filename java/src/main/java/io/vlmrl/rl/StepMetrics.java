package io.vlmrl.rl;

import io.vlmrl.loss.PolicyLossMetrics;

import java.util.LinkedHashMap;
import java.util.Map;

/** Assembles one step's record of every metric in {@link MetricNames#ALL}. */
final class StepMetrics {

    private StepMetrics() {}

    /**
     * @param passRate fraction of sampled groups that passed the gate / dynamic sampling (1 without either)
     * @param rewardErrors responses a failing reward scored 0 ({@code reward.on_error=zero})
     * @param seconds  wall time of the step
     * @param dadsLambdaMean mean DADS weight of the kept responses (1 when off or none)
     * @param stcrWeightMean mean STCR weight of the kept responses (1 when off or none)
     */
    static Map<String, Double> of(RolloutStats rollout, PolicyUpdater.Outcome update, int reuseK, double passRate,
                                  long rewardErrors, double seconds, double dadsLambdaMean, double stcrWeightMean) {
        PolicyLossMetrics lm = update.metrics;
        double valid = Math.max(1, lm.validTokens()); // no kept group: every token metric is 0
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(MetricNames.PG_LOSS, update.updates == 0 ? 0.0 : update.meanPgLoss);
        // The token metrics the loss already names (clip fractions, ppo_kl, eps_high/mean) come from it.
        Map<String, Double> loss = lm.toMap();
        for (String name : new String[] {MetricNames.PG_CLIPFRAC, MetricNames.PG_CLIPFRAC_HIGHER, MetricNames.PG_CLIPFRAC_LOWER,
                MetricNames.PG_CLIPFRAC_HIGHER_ADV_LARGE, MetricNames.PG_CLIPFRAC_HIGHER_ADV_SMALL,
                MetricNames.PG_CLIPFRAC_LOWER_ADV_LARGE, MetricNames.PG_CLIPFRAC_LOWER_ADV_SMALL, MetricNames.ADV_LARGE_FRAC,
                MetricNames.DUAL_CLIPFRAC, MetricNames.PPO_KL}) {
            m.put(name, loss.get(name));
        }
        m.put(MetricNames.KL_LOSS, update.updates == 0 ? 0.0 : update.meanKlLoss);
        m.put(MetricNames.ENTROPY, lm.sumEntropy() / valid);
        m.put(MetricNames.GRAD_NORM, update.updates == 0 ? 0.0 : update.meanGradNorm);
        m.put(MetricNames.SKIPPED_UPDATES, (double) update.skippedUpdates);
        m.put(MetricNames.REWARD_MEAN, rollout.rewardMean());
        m.put(MetricNames.REWARD_STD, rollout.rewardStd());
        m.put(MetricNames.REWARD_ERRORS, (double) rewardErrors);
        m.put(MetricNames.ACCURACY, rollout.accuracy());
        m.put(MetricNames.LENGTH_MEAN, rollout.lengthMean());
        m.put(MetricNames.LENGTH_MAX, rollout.lengthMax());
        m.put(MetricNames.LENGTH_CLIP_RATIO, rollout.clipRatio());
        m.put(MetricNames.EPS_HIGH_MEAN, loss.get(MetricNames.EPS_HIGH_MEAN));
        m.put(MetricNames.DADS_LAMBDA_MEAN, dadsLambdaMean);
        m.put(MetricNames.STCR_WEIGHT_MEAN, stcrWeightMean);
        m.put(MetricNames.REUSE_K, (double) reuseK);
        m.put(MetricNames.GATE_PASS_RATE, passRate);
        m.put(MetricNames.STEP_TIME, seconds);
        m.put(MetricNames.TOKENS_PER_S, (rollout.generatedTokens() + update.trainedTokens) / Math.max(seconds, 1e-9));
        return m;
    }
}
