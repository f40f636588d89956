package io.vlmrl.dist;

import io.vlmrl.data.Problem;
import io.vlmrl.reward.Reward;
import io.vlmrl.reward.RewardFunction;

/**
 * A reward that varies within a group even for an untrained model's responses (one bit of a hash
 * of the text: 1 and right, or 0), so that the tests' few steps have group advantages, gradients,
 * and groups that the ACPO gate and DAPO dynamic sampling drop (all right or all wrong, about one
 * group in eight) to compare. Used as {@code reward.class}.
 */
public final class TextHashReward implements RewardFunction {

    @Override
    public Reward score(Problem problem, String response) {
        boolean right = (response.hashCode() * 0x9E3779B9) < 0;
        return Reward.of(right ? 1 : 0, right);
    }
}
