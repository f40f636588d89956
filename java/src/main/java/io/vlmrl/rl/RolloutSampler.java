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
import java.util.Random;

/**
 * Draws B training prompts, samples G responses for each with the behaviour policy (the current
 * weights) and scores them: one generation batch of {@link ScoredGroup}s. With DAPO's overlong
 * shaping on, its length penalty is added to each reward here.
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
     * @param train  the training problems, drawn uniformly with replacement
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
     * One generation batch.
     *
     * @param rng          draws the prompts
     * @param samplingSeed seeds the token sampling
     */
    public List<ScoredGroup> sample(Random rng, long samplingSeed) {
        int b = rollout.promptsPerStep();
        int g = rollout.groupSize();
        List<Problem> problems = new ArrayList<>(b);
        List<EncodedPrompt> prompts = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            Problem p = train.get(rng.nextInt(train.size()));
            problems.add(p);
            prompts.add(policy.encodePrompt(p));
        }
        GeneratedResponses result = policy.generate(prompts, g, rollout.sampling(samplingSeed));

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
