package io.vlmrl.optim;

/** Learning-rate schedules, as pure functions of the 0-based step (so a resumed run needs no schedule state). */
public final class LearningRates {

    private LearningRates() {
    }

    /**
     * Linear warm-up over {@code warmupSteps} steps towards {@code lr} (step 0 gets lr / (warmup + 1)),
     * then {@code lr}. RL uses it as is; SFT follows it with a cosine decay.
     */
    public static double linearWarmup(double lr, int step, int warmupSteps) {
        return step >= warmupSteps ? lr : lr * (step + 1) / (warmupSteps + 1);
    }

    /**
     * Linear warm-up, then a cosine decay from {@code lr} to {@code finalFraction x lr} at the last
     * of {@code steps} steps.
     */
    public static double warmupCosine(double lr, int step, int warmupSteps, int steps, double finalFraction) {
        if (step < warmupSteps) {
            return linearWarmup(lr, step, warmupSteps);
        }
        int decaySteps = Math.max(1, steps - warmupSteps - 1);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return lr * (finalFraction + (1 - finalFraction) * cosine);
    }
}
