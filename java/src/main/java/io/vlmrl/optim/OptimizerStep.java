package io.vlmrl.optim;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import io.vlmrl.dist.Collectives;
import io.vlmrl.dist.GradientReducer;
import io.vlmrl.files.ArchiveFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one place where accumulated gradients become a parameter update, for SFT and RL alike:
 * global gradient-norm clipping, then AdamW, then zeroed gradients. Matrices and embeddings
 * (dim >= 2) get weight decay; biases and norm weights do not (nanoGPT's rule).
 *
 * <p><b>Data parallel.</b> With more than one rank ({@link Collectives}), {@link #apply(boolean)}
 * first sums the accumulated gradients over the ranks ({@link GradientReducer}, in flattened
 * buckets), so the norm, the clipping and the update are those of the global gradient and the
 * same on every rank; the losses divide by global denominators, so the sum is the single-process
 * gradient. This is the only place where gradients cross ranks.
 *
 * <p>Native memory: the optimizer state (AdamW moments) is owned by this object and freed by
 * {@link #close()}; the parameters stay the model's.
 */
public final class OptimizerStep implements AutoCloseable {

    private final TensorVector parameters;
    private final AdamW adamW;
    private final double maxGradNorm;
    /** Sums the gradients over the ranks; null in a single process. */
    private final GradientReducer reducer;

    /** A single-process optimizer; see {@link #OptimizerStep(Map, double, double, double, double, double, double, Collectives)}. */
    public OptimizerStep(Map<String, Tensor> parameters, double lr, double weightDecay, double beta1, double beta2,
                         double eps, double maxGradNorm) {
        this(parameters, lr, weightDecay, beta1, beta2, eps, maxGradNorm, Collectives.single());
    }

    /**
     * @param parameters  the trained parameters by name, in a stable order (e.g. {@code Policy.trainableParameters()}),
     *                    the same on every rank
     * @param maxGradNorm clip the global gradient L2 norm to this (0: no clipping)
     * @param world       the ranks whose gradients each update sums ({@link Collectives#single()}: this process only)
     */
    public OptimizerStep(Map<String, Tensor> parameters, double lr, double weightDecay, double beta1, double beta2,
                         double eps, double maxGradNorm, Collectives world) {
        if (parameters.isEmpty()) throw new IllegalArgumentException("parameters: expected at least one trainable parameter, got none");
        if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("maxGradNorm: expected >= 0, got " + maxGradNorm);
        List<Tensor> decay = new ArrayList<>(), noDecay = new ArrayList<>();
        parameters.values().forEach(p -> (p.dim() >= 2 ? decay : noDecay).add(p));
        this.parameters = new TensorVector(parameters.values().toArray(new Tensor[0]));
        List<Tensor> first = decay.isEmpty() ? noDecay : decay;
        this.adamW = new AdamW(new TensorVector(first.toArray(new Tensor[0])),
                options(lr, first == decay ? weightDecay : 0.0, beta1, beta2, eps));
        if (first == decay && !noDecay.isEmpty()) {
            adamW.add_param_group(new OptimizerParamGroup(new TensorVector(noDecay.toArray(new Tensor[0])),
                    options(lr, 0.0, beta1, beta2, eps)));
        }
        this.maxGradNorm = maxGradNorm;
        this.reducer = world.distributed() ? new GradientReducer(world, List.copyOf(parameters.values())) : null;
        // Gradients left on the parameters by earlier work (a warm start, a probe) are not this
        // optimizer's to apply: its first update must see only its own backward passes.
        adamW.zero_grad(true);
    }

    /** The RL optimizer of the {@code optim.*} keys. */
    public static OptimizerStep of(Map<String, Tensor> parameters, OptimConfig c) {
        return of(parameters, c, Collectives.single());
    }

    /** The RL optimizer of the {@code optim.*} keys, updating with the gradients summed over {@code world}. */
    public static OptimizerStep of(Map<String, Tensor> parameters, OptimConfig c, Collectives world) {
        return new OptimizerStep(parameters, c.lr(), c.weightDecay(), c.beta1(), c.beta2(), c.eps(), c.gradClip(), world);
    }

    private static AdamWOptions options(double lr, double weightDecay, double beta1, double beta2, double eps) {
        AdamWOptions options = new AdamWOptions(lr);
        options.weight_decay().put(weightDecay);
        setBetas(options, beta1, beta2);
        options.eps().put(eps);
        return options;
    }

    /**
     * Index of beta1 in the memory of {@code AdamWOptions.betas()}, a {@code std::tuple<double, double>}
     * that JavaCPP maps as two doubles: libstdc++ lays a tuple's elements out in reverse order
     * (beta2 first), another C++ library need not. Found from LibTorch's own defaults (0.9, 0.999),
     * not assumed: writing (beta1, beta2) in declaration order swapped them, and every update ran
     * with beta1 = 0.999 and beta2 = 0.9.
     */
    private static final int BETA1_INDEX = beta1Index();

    private static int beta1Index() {
        try (AdamWOptions defaults = new AdamWOptions(1e-3)) {
            DoublePointer betas = defaults.betas();
            if (betas.get(0) == 0.9 && betas.get(1) == 0.999) return 0;
            if (betas.get(1) == 0.9 && betas.get(0) == 0.999) return 1;
            throw new IllegalStateException("AdamWOptions.betas(): expected LibTorch's defaults 0.9 and 0.999 in some order, got "
                    + betas.get(0) + " and " + betas.get(1));
        }
    }

    /** Sets AdamW's (beta1, beta2) whatever the tuple's memory layout. */
    static void setBetas(AdamWOptions options, double beta1, double beta2) {
        options.betas().put(BETA1_INDEX, beta1).put(1 - BETA1_INDEX, beta2);
    }

    /**
     * Clips the accumulated gradients, updates the parameters and zeroes the gradients. When the
     * gradient norm is not finite (the training diverged) the parameters are left unchanged: the
     * gradients are zeroed and the norm is returned for the caller to act on.
     *
     * @return the global gradient L2 norm before clipping (NaN or infinite: no update was made)
     */
    public double apply() {
        return apply(true);
    }

    /**
     * {@link #apply()} after a backward pass whose loss may not have been finite. In a data-parallel
     * run every rank calls it once per update, with or without gradients of its own, so that no rank
     * waits in the all-reduce for one that dropped out; when any rank's loss was not finite, no rank
     * updates.
     *
     * @param localFinite whether this rank's loss was finite
     * @return the global gradient L2 norm before clipping; NaN when a rank's loss was not finite, and
     *         NaN or infinite when the gradient was not: no update was made, the gradients are zeroed
     */
    public double apply(boolean localFinite) {
        boolean finite = reducer == null ? localFinite : reducer.allReduce(localFinite);
        if (!finite) {
            adamW.zero_grad(true);
            return Double.NaN;
        }
        double norm = torch.clip_grad_norm_(parameters, maxGradNorm > 0 ? maxGradNorm : Double.POSITIVE_INFINITY);
        if (Double.isFinite(norm)) adamW.step();
        adamW.zero_grad(true);
        return norm;
    }

    /** Drops the accumulated gradients without an update (a diverged mini-batch). */
    public void discard() {
        adamW.zero_grad(true);
    }

    /** Sets the learning rate of every parameter group (for schedules). */
    public void setLearningRate(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("lr: expected >= 0, got " + lr);
        var groups = adamW.param_groups();
        for (long i = 0; i < groups.size(); i++) {
            groups.get(i).options().set_lr(lr);
        }
    }

    /** Writes the AdamW state (moments and step counts) to {@code file}, atomically. */
    public void save(Path file) throws IOException {
        try (OutputArchive archive = new OutputArchive()) {
            adamW.save(archive);
            ArchiveFiles.save(archive, file);
        }
    }

    /**
     * Restores the AdamW state written by {@link #save}.
     *
     * @throws IOException naming the file when it is missing, damaged or from another model
     */
    public void load(Path file) throws IOException {
        try (InputArchive archive = new InputArchive()) {
            ArchiveFiles.load(archive, file);
            try {
                adamW.load(archive);
            } catch (RuntimeException e) {
                throw new io.vlmrl.files.DamagedFileException(file, "not this model's optimizer state: "
                        + ArchiveFiles.firstLine(e.getMessage()), e);
            }
        }
    }

    @Override
    public void close() {
        adamW.close();
        parameters.close();
    }
}
