package io.vlmrl.sft;

import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.policy.Tokenizer;
import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.train.OptimizerStep;
import io.vlmrl.train.PromptBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised warm start: teacher-forced training of the policy on problems with their target
 * responses ({@link Problem#targetResponse()}), cross-entropy on the response tokens (the end
 * token included) only, averaged over all response tokens of the batch. Prompts are laid out
 * exactly as the RL trainer lays them out ({@link PromptBatch}), so what SFT teaches is what RL
 * samples from.
 *
 * <p>Each step draws {@code batchSize} problems uniformly (with replacement) from the data set
 * with a generator seeded by {@link SftOptions#seed()}; the run is reproducible.
 */
public final class SftTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SftTrainer.class);

    private final VisionLanguageModel model;
    private final Tokenizer tokenizer;
    private final SftOptions options;

    public SftTrainer(VisionLanguageModel model, Tokenizer tokenizer, SftOptions options) {
        if (model == null || tokenizer == null || options == null) {
            throw new IllegalArgumentException("model, tokenizer and options must not be null");
        }
        if (tokenizer.vocabSize() != model.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer vocabSize " + tokenizer.vocabSize()
                    + " must equal the model's vocabSize " + model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
    }

    /** Trains the model in place and returns the loss curve. */
    public SftResult train(Dataset data) {
        if (data.size() < 1) {
            throw new IllegalArgumentException("dataset " + data.name() + " must contain at least one problem, got 0");
        }
        checkImageSize(data.get(0));
        Random rng = new Random(options.seed());
        List<Double> losses = new ArrayList<>(options.steps());
        VisionLanguageModel.ParameterGroups groups = model.parameterGroups();
        long start = System.nanoTime();
        // The model has no dropout or batch norm, so train/eval mode is irrelevant and is not switched
        // (Module.train() also recurses into native children, which breaks for GC'd Java peers).
        try (AdamW optimizer = newOptimizer(groups); ProgressBar bar = progressBar()) {
            TensorVector parameters = new TensorVector(model.namedParameters().values().toArray(new Tensor[0]));
            optimizer.zero_grad(true); // gradients left by earlier work; each step then clears its own
            for (int step = 0; step < options.steps(); step++) {
                List<Problem> batch = new ArrayList<>(options.batchSize());
                for (int i = 0; i < options.batchSize(); i++) {
                    batch.add(data.get(rng.nextInt(data.size())));
                }
                OptimizerStep.setLearningRate(optimizer, options.lrAt(step));
                double loss = step(batch, optimizer, parameters);
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("SFT loss became " + loss + " at step " + step
                            + "; lower SftOptions.lr (now " + options.lr() + ")");
                }
                losses.add(loss);
                if (bar != null) {
                    bar.step();
                    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        SftResult result = new SftResult(data.name(), options, losses, seconds);
        LOG.info("SFT: {} steps x {} problems in {} s, loss {} -> {}", options.steps(), options.batchSize(),
                String.format(Locale.ROOT, "%.1f", seconds), String.format(Locale.ROOT, "%.4f", result.initialLoss()),
                String.format(Locale.ROOT, "%.4f", result.finalLoss()));
        return result;
    }

    /** Trains, then saves the model and tokenizer to {@code checkpointDir} with {@link Checkpoint#save}. */
    public SftResult train(Dataset data, Path checkpointDir) throws IOException {
        SftResult result = train(data);
        Checkpoint.save(checkpointDir, model, tokenizer);
        return result;
    }

    /**
     * Mean response-token cross-entropy of a batch under the current weights, without training
     * (for tests and monitoring).
     */
    public double loss(List<Problem> batch) {
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            return crossEntropy(batch).item_double();
        }
    }

    /** One optimizer step; returns the loss before the update. */
    private double step(List<Problem> batch, AdamW optimizer, TensorVector parameters) {
        try (PointerScope scope = new PointerScope()) {
            Tensor loss = crossEntropy(batch);
            loss.backward();
            if (options.gradClip() > 0) {
                torch.clip_grad_norm_(parameters, options.gradClip());
            }
            optimizer.step();
            // Gradients must not outlive the step: the next step, or a later optimizer (the RL
            // trainer's), would otherwise add them to its own update.
            optimizer.zero_grad(true);
            return loss.item_double();
        }
    }

    private Tensor crossEntropy(List<Problem> batch) {
        PromptBatch prompts = PromptBatch.of(batch, 1, tokenizer);
        ResponseTargets targets = ResponseTargets.of(batch.stream().map(Problem::targetResponse).toList(), tokenizer);
        Tensor logits = model.responseLogits(prompts.pixels(), prompts.promptIds(), null, targets.ids());
        Tensor logp = torch.log_softmax(logits, -1).gather(-1, targets.ids().unsqueeze(-1)).squeeze(-1);
        return logp.mul(targets.mask()).sum().neg().div(targets.mask().sum());
    }

    /** AdamW with two parameter groups: matrices and embeddings decay, biases and norm weights do not. */
    private AdamW newOptimizer(VisionLanguageModel.ParameterGroups groups) {
        AdamWOptions decay = new AdamWOptions(options.lr());
        decay.weight_decay().put(options.weightDecay());
        AdamW optimizer = new AdamW(groups.decayVector(), decay);
        if (!groups.noDecay().isEmpty()) {
            AdamWOptions noDecay = new AdamWOptions(options.lr());
            noDecay.weight_decay().put(0.0);
            optimizer.add_param_group(new OptimizerParamGroup(groups.noDecayVector(), noDecay));
        }
        return optimizer;
    }

    private ProgressBar progressBar() {
        if (!options.showProgress()) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("sft").setInitialMax(options.steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).build();
    }

    private void checkImageSize(Problem sample) {
        int expected = model.config().imageSize();
        if (sample.image().getWidth() != expected || sample.image().getHeight() != expected) {
            throw new IllegalArgumentException("problem images are " + sample.image().getWidth() + "x"
                    + sample.image().getHeight() + " but the model expects " + expected + "x" + expected);
        }
    }
}
