package io.vlmrl.rl;

import io.vlmrl.policy.NonFiniteException;

/** The RL training diverged: names the step and the quantity that stopped being finite, and what to try. */
public final class DivergenceException extends RuntimeException {
    private final int step;

    DivergenceException(int step, NonFiniteException cause, String advice) {
        super("step " + step + ": " + cause.getMessage() + "; the training diverged: " + advice, cause);
        this.step = step;
    }

    /** The 0-based step that diverged. */
    public int step() {
        return step;
    }
}
