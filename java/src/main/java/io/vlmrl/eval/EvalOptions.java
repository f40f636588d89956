package io.vlmrl.eval;

import io.vlmrl.data.ResponseFormat;

/**
 * Settings of an evaluation.
 *
 * @param problems      how many problems to evaluate (the first ones of the data set; fewer if it is smaller)
 * @param batchSize     prompts generated together
 * @param maxNewTokens  longest response generated (the end token included)
 * @param examples      how many (question, response, answer) examples to keep in the result
 */
public record EvalOptions(int problems, int batchSize, int maxNewTokens, int examples) {
    public static final int DEFAULT_PROBLEMS = 200;

    public EvalOptions {
        if (problems < 1) {
            throw new IllegalArgumentException("EvalOptions.problems must be >= 1, got " + problems);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("EvalOptions.batchSize must be >= 1, got " + batchSize);
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("EvalOptions.maxNewTokens must be >= 1, got " + maxNewTokens);
        }
        if (examples < 0) {
            throw new IllegalArgumentException("EvalOptions.examples must be >= 0, got " + examples);
        }
    }

    /** 200 problems, batches of 50, responses up to the format's word limit plus the end token, 10 examples. */
    public static EvalOptions defaults() {
        return new EvalOptions(DEFAULT_PROBLEMS, 50, ResponseFormat.MAX_WORDS + 1, 10);
    }

    public EvalOptions withProblems(int n) {
        return new EvalOptions(n, batchSize, maxNewTokens, examples);
    }

    public EvalOptions withBatchSize(int n) {
        return new EvalOptions(problems, n, maxNewTokens, examples);
    }

    public EvalOptions withMaxNewTokens(int n) {
        return new EvalOptions(problems, batchSize, n, examples);
    }
}
