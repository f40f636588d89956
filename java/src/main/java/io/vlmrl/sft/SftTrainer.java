package io.vlmrl.sft;

import io.vlmrl.config.Schema;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.dist.Collectives;
import io.vlmrl.optim.LearningRates;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.Policy;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Supervised warm start: teacher-forced training of a {@link Policy} on problems with their target
 * responses ({@link Problem#targetResponse()}), cross-entropy on the response tokens (the end token
 * included) only, averaged over all response tokens of the batch. Prompts are encoded by the
 * policy exactly as the RL trainer and the evaluator encode them, so what SFT teaches is what RL
 * samples from.
 *
 * <p>Each step draws {@code batch_size} problems uniformly (with replacement) from the data set
 * with a generator seeded by the run's seed; the run is reproducible. Every update goes through
 * {@link OptimizerStep}, as RL's do.
 *
 * <p><b>Data parallel</b> ({@link #dataParallel}): every rank draws the same batch, trains on its
 * contiguous share of it and divides by the response tokens of the whole batch; the optimizer
 * step sums the gradients over the ranks, so N ranks make the single-process update. The loss
 * reported is the whole batch's.
 */
public final class SftTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SftTrainer.class);

    private final Policy policy;
    private final SftConfig config;
    private final long seed;
    private boolean showProgress = true;
    private Collectives world = Collectives.single();

    /**
     * @param seed draws the training problems; the same seed and policy give the same run
     */
    public SftTrainer(Policy policy, SftConfig config, long seed) {
        if (policy == null || config == null) {
            throw new IllegalArgumentException("policy and config must not be null");
        }
        this.policy = policy;
        this.config = Schema.check(config);
        this.seed = seed;
    }

    /** Whether to draw a progress bar with the live loss on the console (default true). */
    public SftTrainer showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /**
     * Trains as one rank of {@code world} (every rank runs the same trainer on the same data);
     * rank 0's weights are copied to the others first.
     */
    public SftTrainer dataParallel(Collectives world) {
        this.world = world;
        return this;
    }

    /** Trains the policy in place and returns the loss curve. */
    public SftResult train(Dataset data) {
        if (data.size() < 1) {
            throw new IllegalArgumentException("dataset " + data.name() + " must contain at least one problem, got 0");
        }
        Random rng = new Random(seed);
        List<Double> losses = new ArrayList<>(config.steps());
        long start = System.nanoTime();
        // The models have no dropout or batch norm, so train/eval mode is irrelevant and is not switched
        // (Module.train() also recurses into native children, which breaks for GC'd Java peers).
        world.broadcastFromRankZero("copying rank 0's weights", policy.trainableParameters().values());
        try (OptimizerStep optimizer = new OptimizerStep(policy.trainableParameters(), config.lr(), config.weightDecay(),
                0.9, 0.999, 1e-8, config.gradClip(), world);
             ProgressBar bar = progressBar()) {
            for (int step = 0; step < config.steps(); step++) {
                List<Problem> batch = new ArrayList<>(config.batchSize());
                for (int i = 0; i < config.batchSize(); i++) {
                    batch.add(data.get(rng.nextInt(data.size())));
                }
                optimizer.setLearningRate(LearningRates.warmupCosine(config.lr(), step, config.warmupSteps(),
                        config.steps(), config.finalLrFraction()));
                double loss = step(batch, optimizer);
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("SFT loss became " + loss + " at step " + step
                            + "; lower sft.lr (now " + config.lr() + ")");
                }
                losses.add(loss);
                if (bar != null) {
                    bar.step();
                    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        SftResult result = new SftResult(data.name(), config, seed, losses, seconds);
        if (!losses.isEmpty()) {
            LOG.info("SFT: {} steps x {} problems in {} s, loss {} -> {}", config.steps(), config.batchSize(),
                    String.format(Locale.ROOT, "%.1f", seconds), String.format(Locale.ROOT, "%.4f", result.initialLoss()),
                    String.format(Locale.ROOT, "%.4f", result.finalLoss()));
        }
        return result;
    }

    /**
     * Mean response-token cross-entropy of a batch under the current weights, without training
     * (for tests and monitoring).
     */
    public double loss(List<Problem> batch) {
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            return crossEntropy(batch, responseTokens(batch)).item_double();
        }
    }

    /** One optimizer step on this rank's share of {@code batch}; returns the whole batch's loss before the update. */
    private double step(List<Problem> batch, OptimizerStep optimizer) {
        try (PointerScope scope = new PointerScope()) {
            int first = (int) ((long) world.rank() * batch.size() / world.worldSize());
            int end = (int) ((long) (world.rank() + 1) * batch.size() / world.worldSize());
            List<Problem> mine = batch.subList(first, end);
            double loss = 0;
            if (!mine.isEmpty()) {
                // Divided by the whole batch's tokens: the ranks' gradients then add up to the batch's.
                Tensor local = crossEntropy(mine, responseTokens(batch));
                local.backward();
                loss = local.item_double();
            }
            // The update zeroes the gradients: the next step, or a later optimizer (the RL
            // trainer's), must not add them to its own update.
            optimizer.apply();
            return world.distributed() ? world.sum("summing the SFT loss", new double[] {loss})[0] : loss;
        }
    }

    /** Response tokens of the batch's targets (the end token included): the loss's denominator. */
    private long responseTokens(List<Problem> batch) {
        long tokens = 0;
        for (Problem p : batch) tokens += policy.encodeResponse(p.targetResponse()).length;
        return tokens;
    }

    /** Σ of the response tokens' cross-entropy over {@code batch}, divided by {@code tokens}. */
    private Tensor crossEntropy(List<Problem> batch, long tokens) {
        List<EncodedPrompt> prompts = new ArrayList<>(batch.size());
        List<int[]> responses = new ArrayList<>(batch.size());
        for (Problem p : batch) {
            prompts.add(policy.encodePrompt(p));
            responses.add(policy.encodeResponse(p.targetResponse()));
        }
        ResponseTargets targets = ResponseTargets.of(responses, policy.tokenizer().padId());
        Tensor logits = policy.responseLogits(prompts, targets.ids());
        Tensor logp = torch.log_softmax(logits, -1).gather(-1, targets.ids().unsqueeze(-1)).squeeze(-1);
        return logp.mul(targets.mask()).sum().neg().div(new org.bytedeco.pytorch.Scalar((double) Math.max(1, tokens)));
    }

    private ProgressBar progressBar() {
        if (!showProgress || config.steps() == 0) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("sft").setInitialMax(config.steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).build();
    }
}
