package io.vlmrl.rl;

import io.vlmrl.algo.OverlongShaping;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.Reward;
import io.vlmrl.reward.RewardConfig;
import io.vlmrl.reward.RewardFunction;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Samples groups: for each, one training prompt and G responses to it with the behaviour policy
 * (the current weights), scored. With DAPO's overlong shaping on, its length penalty is added to
 * each reward here.
 *
 * <p>A group's prompt and responses come from its own two seeds alone, so a group is the same
 * whichever other groups are sampled with it: one process sampling a whole generation batch and
 * the ranks of a data-parallel run each sampling a share of it draw the same groups.
 */
public final class RolloutSampler {

    private final Policy policy;
    private final Dataset train;
    private final RewardFunction reward;
    private final RolloutConfig rollout;
    private final boolean overlongShaping;
    private final int overlongMaxLength;
    private final int overlongCache;

    /**
     * @param train  the training problems
     * @param reward scores each response (wrap it in a {@code GuardedReward} to apply {@code reward.on_error})
     */
    public RolloutSampler(Policy policy, Dataset train, RewardFunction reward, RolloutConfig rollout, RewardConfig rewardConfig) {
        if (train.size() < 1) throw new IllegalArgumentException("train: expected at least one problem, got 0 in " + train.name());
        this.policy = policy;
        this.train = train;
        this.reward = reward;
        this.rollout = rollout;
        this.overlongShaping = rewardConfig.overlongShaping();
        this.overlongMaxLength = rewardConfig.overlongMaxLengthFor(rollout.maxResponseLength());
        this.overlongCache = rewardConfig.overlongCacheFor(rollout.maxResponseLength());
    }

    /**
     * Samples one group per seed pair.
     *
     * @param promptSeeds   group i's training problem is drawn uniformly (with replacement) by a stream seeded with
     *                      {@code promptSeeds[i]}
     * @param samplingSeeds group i's G responses are sampled from streams seeded with {@code samplingSeeds[i]}
     */
    public List<ScoredGroup> sample(long[] promptSeeds, long[] samplingSeeds) {
        if (samplingSeeds.length != promptSeeds.length) {
            throw new IllegalArgumentException("samplingSeeds: expected one per group (" + promptSeeds.length + "), got "
                    + samplingSeeds.length);
        }
        int b = promptSeeds.length;
        int g = rollout.groupSize();
        if (b == 0) return List.of();
        List<Problem> problems = new ArrayList<>(b);
        List<EncodedPrompt> prompts = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            Problem p = train.get(new SplittableRandom(promptSeeds[i]).nextInt(train.size()));
            problems.add(p);
            prompts.add(policy.encodePrompt(p));
        }
        GeneratedResponses result = policy.generate(prompts, g, rollout.sampling(samplingSeeds[0]), samplingSeeds);

        List<ScoredGroup> groups = new ArrayList<>(b);
        for (int p = 0; p < b; p++) {
            int[][] tokens = new int[g][];
            float[][] logp = new float[g][];
            boolean[] truncated = new boolean[g];
            double[] rewards = new double[g];
            boolean[] correct = new boolean[g];
            for (int i = 0; i < g; i++) {
                int row = p * g + i;
                tokens[i] = result.tokens()[row];
                logp[i] = result.logProbs()[row];
                truncated[i] = result.truncated()[row];
                Reward r = reward.score(problems.get(p), policy.decodeResponse(tokens[i]));
                rewards[i] = r.score() + overlongPenalty(tokens[i].length);
                correct[i] = r.correct();
            }
            groups.add(new ScoredGroup(problems.get(p), prompts.get(p), tokens, logp, truncated, rewards, correct));
        }
        return groups;
    }

    private double overlongPenalty(int length) {
        return overlongShaping ? OverlongShaping.penalty(length, overlongMaxLength, overlongCache) : 0.0;
    }
}
