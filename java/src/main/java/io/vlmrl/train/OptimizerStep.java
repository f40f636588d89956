package io.vlmrl.train;

import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;

/**
 * The one place where accumulated gradients become a parameter update: gradient-norm
 * clipping, then AdamW, then zeroed gradients. A data-parallel all-reduce of the gradients
 * belongs at the top of {@link #apply()}, before the norm is taken.
 */
public final class OptimizerStep implements AutoCloseable {

    private final TensorVector parameters;
    private final AdamW adamW;
    private final double maxGradNorm;

    /**
     * @param model       the module whose parameters are trained
     * @param maxGradNorm clip the global gradient L2 norm to this (0: no clipping)
     */
    public OptimizerStep(Module model, double lr, double weightDecay, double beta1, double beta2, double maxGradNorm) {
        if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("maxGradNorm: expected >= 0, got " + maxGradNorm);
        this.parameters = model.parameters();
        AdamWOptions options = new AdamWOptions(lr);
        options.weight_decay().put(weightDecay);
        options.betas().put(0, beta1).put(1, beta2);
        this.adamW = new AdamW(parameters, options);
        this.maxGradNorm = maxGradNorm;
        // Gradients left on the parameters by earlier work (a warm start, a probe) are not this
        // optimizer's to apply: its first update must see only its own backward passes.
        adamW.zero_grad(true);
    }

    public static OptimizerStep of(Module model, TrainConfig c) {
        return new OptimizerStep(model, c.lr(), c.weightDecay(), c.beta1(), c.beta2(), c.gradClip());
    }

    /**
     * Clips the accumulated gradients, updates the parameters and zeroes the gradients.
     *
     * @return the global gradient L2 norm before clipping
     */
    public double apply() {
        // Distributed training: all-reduce (average) every parameter's gradient here.
        double norm = torch.clip_grad_norm_(parameters, maxGradNorm > 0 ? maxGradNorm : Double.POSITIVE_INFINITY);
        adamW.step();
        adamW.zero_grad(true);
        return norm;
    }

    /** Sets the learning rate of every parameter group (used by warm-up schedules). */
    public void setLearningRate(double lr) {
        setLearningRate(adamW, lr);
    }

    /**
     * The rate of 0-based step {@code step} during a linear warm-up of {@code warmupSteps} steps
     * towards {@code lr} (SFT and RL share it); {@code lr} itself from then on.
     */
    public static double linearWarmup(double lr, int step, int warmupSteps) {
        return step >= warmupSteps ? lr : lr * (step + 1) / (warmupSteps + 1);
    }

    /** Sets the learning rate of every parameter group of {@code optimizer}. */
    public static void setLearningRate(AdamW optimizer, double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("lr: expected >= 0, got " + lr);
        var groups = optimizer.param_groups();
        for (long i = 0; i < groups.size(); i++) {
            groups.get(i).options().set_lr(lr);
        }
    }

    /** Writes the AdamW state (moments and step counts) to {@code file}. */
    public void save(Path file) {
        try (OutputArchive archive = new OutputArchive()) {
            adamW.save(archive);
            archive.save_to(file.toString());
        }
    }

    /** Restores the AdamW state written by {@link #save}. */
    public void load(Path file) {
        try (InputArchive archive = new InputArchive()) {
            archive.load_from(file.toString());
            adamW.load(archive);
        }
    }

    @Override
    public void close() {
        adamW.close();
        parameters.close();
    }
}
