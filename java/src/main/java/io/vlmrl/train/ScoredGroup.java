package io.vlmrl.train;

import io.vlmrl.data.Problem;

/**
 * One prompt's G sampled responses with their rewards.
 *
 * @param problem        the prompt
 * @param tokens         response token ids, one row of exactly {@code lengths[i]} tokens per response
 * @param behaviourLogp  log-probs of those tokens under the behaviour policy, recorded at sampling time
 * @param truncated      true where a response was cut at the maximum length
 * @param rewards        total reward per response (with the overlong penalty when that shaping is on)
 * @param accuracy       accuracy part per response (1 right, 0 wrong)
 * @param correct        c_i: whether the answer is right
 */
public record ScoredGroup(Problem problem, int[][] tokens, float[][] behaviourLogp, boolean[] truncated,
                          double[] rewards, double[] accuracy, boolean[] correct) {

    public int size() {
        return tokens.length;
    }

    public int length(int i) {
        return tokens[i].length;
    }
}
