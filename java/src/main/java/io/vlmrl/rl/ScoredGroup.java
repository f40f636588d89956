package io.vlmrl.rl;

import io.vlmrl.data.Problem;
import io.vlmrl.policy.EncodedPrompt;

/**
 * One prompt's G sampled responses with their rewards.
 *
 * @param problem        the problem
 * @param prompt         its prompt as the policy encoded it (shared by the G responses)
 * @param tokens         response token ids, one row of exactly {@code length(i)} tokens per response
 * @param behaviourLogp  log-probs of those tokens under the behaviour policy, recorded at sampling time
 * @param truncated      true where a response was cut at the maximum length
 * @param rewards        total reward per response (with the overlong penalty when that shaping is on)
 * @param correct        c_i: whether the answer is right (the accuracy metric, APO's c_i)
 */
public record ScoredGroup(Problem problem, EncodedPrompt prompt, int[][] tokens, float[][] behaviourLogp,
                          boolean[] truncated, double[] rewards, boolean[] correct) {

    public int size() {
        return tokens.length;
    }

    public int length(int i) {
        return tokens[i].length;
    }
}
