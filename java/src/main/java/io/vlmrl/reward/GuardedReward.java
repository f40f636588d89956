package io.vlmrl.reward;

import io.vlmrl.data.Problem;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Applies {@code reward.on_error} around a reward function: a score that throws or is not finite
 * either stops the step with an error naming the problem and the response ({@code fail}), or
 * scores 0 and is counted ({@code zero}; the rollout reports the count as {@code reward/errors}).
 */
public final class GuardedReward implements RewardFunction {

    /** Thrown (with {@code reward.on_error=fail}) when a reward function fails. */
    public static final class RewardFailure extends RuntimeException {
        RewardFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final RewardFunction inner;
    private final RewardConfig.OnError onError;
    private final AtomicLong errors = new AtomicLong();

    public GuardedReward(RewardFunction inner, RewardConfig.OnError onError) {
        if (inner == null || onError == null) throw new IllegalArgumentException("inner and onError must not be null");
        this.inner = inner;
        this.onError = onError;
    }

    @Override
    public Reward score(Problem problem, String response) {
        Reward r;
        try {
            r = inner.score(problem, response);
            if (r == null) throw new IllegalStateException("the reward function returned null");
        } catch (RuntimeException e) {
            return failed(problem, response, "threw " + e, e);
        }
        if (!Double.isFinite(r.score())) {
            return failed(problem, response, "returned the score " + r.score(), null);
        }
        return r;
    }

    /** Failures scored 0 so far (with {@code zero}). */
    public long errors() {
        return errors.get();
    }

    private Reward failed(Problem problem, String response, String what, Throwable cause) {
        if (onError == RewardConfig.OnError.ZERO) {
            errors.incrementAndGet();
            return Reward.of(0.0, false);
        }
        String shown = response.length() <= 200 ? response : response.substring(0, 197) + "...";
        throw new RewardFailure("reward " + inner.getClass().getName() + " " + what + " on problem " + problem.id()
                + " for the response \"" + shown + "\" (set reward.on_error=zero to score such responses 0 and count them)", cause);
    }
}
