package io.vlmrl.reward;

import io.vlmrl.data.Problem;

/**
 * Scores one response to one problem. Selected by {@code reward.name} (a registered name) or
 * {@code reward.class} (a user's class on the classpath); see {@link Rewards}.
 *
 * <p>Implementations must be deterministic (the same problem and response always get the same
 * score) and safe to call from several threads. A reward that throws, or returns a non-finite
 * score, stops the training step with an error naming the problem and the response, unless
 * {@code reward.on_error=zero} is set (see {@link GuardedReward}).
 */
@FunctionalInterface
public interface RewardFunction {

    /**
     * @param problem  the problem the response answers (its answer, solution, type, ...)
     * @param response the response text as the policy decoded it
     */
    Reward score(Problem problem, String response);
}
