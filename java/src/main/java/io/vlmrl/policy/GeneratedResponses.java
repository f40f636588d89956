package io.vlmrl.policy;

/**
 * Sampled responses, one row per response, in Java memory.
 *
 * @param tokens    response token ids, each row exactly as long as the response; the end token is
 *                  the last one of a response that stopped by itself
 * @param logProbs  the behaviour log-prob of each sampled token, {@code log_softmax(logits / T)} over
 *                  the full vocabulary (see {@link SamplingConfig#temperature()})
 * @param truncated true where a response reached the token limit without the end token
 */
public record GeneratedResponses(int[][] tokens, float[][] logProbs, boolean[] truncated) {

    public GeneratedResponses {
        if (tokens.length != logProbs.length || tokens.length != truncated.length) {
            throw new IllegalArgumentException("tokens, logProbs and truncated must have one row per response, got "
                    + tokens.length + ", " + logProbs.length + ", " + truncated.length);
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].length != logProbs[i].length) {
                throw new IllegalArgumentException("response " + i + " has " + tokens[i].length + " tokens but "
                        + logProbs[i].length + " log-probs");
            }
        }
    }

    /** Number of responses. */
    public int size() {
        return tokens.length;
    }
}
