package io.vlmrl.rl;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.LogProbs;
import io.vlmrl.loss.AdvantageStats;
import io.vlmrl.loss.Denominators;
import io.vlmrl.loss.PolicyLossConfig;
import io.vlmrl.loss.PolicyLossFunction;
import io.vlmrl.loss.PolicyLossInputs;
import io.vlmrl.loss.PolicyLossMetrics;
import io.vlmrl.loss.PolicyLossRegistry;
import io.vlmrl.loss.PolicyLossResult;
import io.vlmrl.loss.LossConfig;
import io.vlmrl.optim.OptimConfig;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.NonFiniteException;
import io.vlmrl.policy.Policy;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The update half of an RL step: K passes of mini-batch updates over a {@link RolloutBatch}.
 * Each micro-batch runs response logits → token log-probs and entropy → policy loss →
 * backward into the logits; each mini-batch ends in one {@link OptimizerStep}.
 *
 * <p><b>Old log-probs.</b> The ratio's denominator is recomputed by {@link #recordOldLogProbs}
 * with the training forward, on the first pass's micro-batches (same rows, same shapes), before
 * any update. The generator's KV-cache log-probs are the same quantity but a different sequence
 * of float operations, so they differ in the last bits; recomputing makes ρ exactly 1 for
 * every token of the first mini-batch (and of the whole first pass when it is one mini-batch).
 */
public final class PolicyUpdater {

    private final Policy policy;
    private final Policy reference;
    private final OptimizerStep optimizer;
    private final PolicyLossConfig lossConfig;
    private final PolicyLossFunction loss;
    private final KernelBackend backend;
    private final double temperature;
    private final int miniBatchSize;
    private final int microBatchSize;
    private final OptimConfig.OnNonFinite onNonFinite;

    /** What the passes of one step did. */
    public static final class Outcome {
        /** Loss metric sums over every micro-batch of every pass. */
        public PolicyLossMetrics metrics = PolicyLossMetrics.empty();
        /** Mean of the mini-batch losses (the loss value of one update). */
        public double meanPgLoss;
        public double meanKlLoss;
        /** Gradient norm before clipping, averaged over the updates. */
        public double meanGradNorm;
        /** Mean ratio over the valid tokens of each pass, in pass order. */
        public final List<Double> passMeanRatio = new ArrayList<>();
        /** Tokens that went through a training forward. */
        public long trainedTokens;
        public int updates;
        /** Mini-batches whose update was dropped for a non-finite loss or gradient ({@code optim.on_non_finite=skip}). */
        public int skippedUpdates;
        /** The loss metric sums of each pass, in pass order (this rank's share of them). */
        public final List<PolicyLossMetrics> passMetrics = new ArrayList<>();
    }

    /**
     * @param reference   the frozen reference policy, or null when no KL term is on
     * @param temperature the sampling temperature: the trained log-probs are those of logits / T,
     *                    as the behaviour log-probs were
     */
    public PolicyUpdater(Policy policy, Policy reference, OptimizerStep optimizer, LossConfig loss, KernelBackend backend,
                         double temperature, OptimConfig optim) {
        this.policy = policy;
        this.reference = reference;
        this.optimizer = optimizer;
        this.lossConfig = loss.policyLossConfig(backend);
        this.loss = PolicyLossRegistry.get(lossConfig.lossMode());
        this.backend = backend;
        this.temperature = temperature;
        this.miniBatchSize = optim.miniBatchSize();
        this.microBatchSize = optim.microBatchSize();
        this.onNonFinite = optim.onNonFinite();
        if (lossConfig.klEnabled() && reference == null) {
            throw new IllegalArgumentException("reference: a KL term (" + lossConfig.klEstimator().configName()
                    + ") needs a reference policy, got none");
        }
    }

    /**
     * Runs {@code passes} passes; pass p's mini-batch order comes from {@code rng}. The first
     * pass's plan is also the one the old log-probs are recorded with.
     */
    public Outcome update(RolloutBatch batch, int passes, Random rng) {
        Outcome out = new Outcome();
        GlobalRows global = batch.global(); // every rank's responses: the plans and denominators are global
        if (global.size() == 0) return out;
        List<MiniBatchPlan> plans = new ArrayList<>();
        for (int p = 0; p < passes; p++) {
            plans.add(global.plan(miniBatchSize, microBatchSize, rng));
        }
        recordOldLogProbs(batch, plans.get(0));
        if (reference != null) recordReferenceLogProbs(batch, plans.get(0));
        AdvantageStats stats = global.advantageStats();

        double sumPg = 0, sumKl = 0, sumNorm = 0;
        for (MiniBatchPlan plan : plans) {
            PolicyLossMetrics passMetrics = PolicyLossMetrics.empty();
            for (int m = 0; m < plan.miniBatches().size(); m++) {
                List<int[]> mini = plan.miniBatches().get(m);
                Denominators denominators = plan.denominators(m);
                PolicyLossMetrics miniMetrics = PolicyLossMetrics.empty();
                NonFiniteException failure = null;
                try {
                    for (int[] micro : mini) {
                        miniMetrics = miniMetrics.plus(trainMicroBatch(batch, micro, denominators, stats));
                        out.trainedTokens += batch.validTokens(micro);
                    }
                    if (!Double.isFinite(miniMetrics.pgLoss())) throw new NonFiniteException("the policy loss");
                } catch (NonFiniteException e) {
                    failure = e;
                }
                // Every rank takes part in every update (with or without rows of its own, finite or not),
                // so none waits in the all-reduce for one that dropped out; all skip or stop alike.
                double norm = optimizer.apply(failure == null);
                if (failure == null && !Double.isFinite(norm)) failure = new NonFiniteException("the gradient norm");
                if (failure != null) {
                    optimizer.discard();
                    if (onNonFinite == OptimConfig.OnNonFinite.STOP) throw failure;
                    out.skippedUpdates++;
                    continue;
                }
                sumNorm += norm;
                sumPg += miniMetrics.pgLoss();
                sumKl += miniMetrics.klLoss();
                out.updates++;
                passMetrics = passMetrics.plus(miniMetrics);
            }
            out.passMeanRatio.add(passMetrics.validTokens() == 0 ? 1.0 : passMetrics.sumRatio() / passMetrics.validTokens());
            out.passMetrics.add(passMetrics);
            out.metrics = out.metrics.plus(passMetrics);
        }
        if (out.updates > 0) {
            out.meanPgLoss = sumPg / out.updates;
            out.meanKlLoss = sumKl / out.updates;
            out.meanGradNorm = sumNorm / out.updates;
        }
        return out;
    }

    private PolicyLossMetrics trainMicroBatch(RolloutBatch batch, int[] rows, Denominators denominators,
                                              AdvantageStats stats) {
        try (PointerScope scope = new PointerScope()) {
            RolloutBatch.Slice s = batch.slice(rows);
            Tensor logits = policy.responseLogits(s.prompts(), s.responseIds());
            LogProbs lp = logProbs(logits, s.responseIds(), "the policy's logits (training forward)");
            PolicyLossInputs.Builder in = PolicyLossInputs.builder(lp.logp(), s.oldLogp(), s.advantages(), s.mask())
                    .klWeights(s.klWeights())
                    .entropy(lp.entropy())
                    .denominators(denominators)
                    .advantageStats(stats);
            if (s.refLogp() != null) in.ref(s.refLogp());
            PolicyLossResult result = loss.compute(in.build(), lossConfig);
            lp.backward(result.gradLogp(), result.gradEntropy(), true);
            return result.metrics();
        }
    }

    /** oldLogp ← the policy's log-probs before any update, micro-batch by micro-batch as in the first pass. */
    private void recordOldLogProbs(RolloutBatch batch, MiniBatchPlan firstPass) {
        recordLogProbs(policy, batch, firstPass, batch.oldLogp);
    }

    private void recordReferenceLogProbs(RolloutBatch batch, MiniBatchPlan firstPass) {
        batch.refLogp = new float[batch.size() * batch.maxLength()];
        recordLogProbs(reference, batch, firstPass, batch.refLogp);
    }

    private void recordLogProbs(Policy model, RolloutBatch batch, MiniBatchPlan plan, float[] target) {
        for (List<int[]> mini : plan.miniBatches()) {
            for (int[] rows : mini) {
                try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
                    RolloutBatch.Slice s = batch.slice(rows);
                    Tensor logits = model.responseLogits(s.prompts(), s.responseIds());
                    // Same call as in training (entropy included) so the forward is the same sequence of operations.
                    LogProbs lp = logProbs(logits, s.responseIds(), model == reference
                            ? "the reference policy's logits" : "the policy's logits (old log-probs)");
                    Tensor logp = lp.logp().mul(s.mask()).contiguous();
                    float[] values = new float[(int) logp.numel()];
                    logp.data_ptr_float().get(values);
                    RolloutBatch.scatter(rows, values, target, batch.maxLength());
                }
            }
        }
    }

    /**
     * Token log-probs and entropies; logits that are not finite (a diverged policy) are reported as
     * such, where the kernels would only name a bad index.
     */
    private LogProbs logProbs(Tensor logits, Tensor targets, String what) {
        try {
            return LogProbs.compute(backend, logits, targets, temperature, true);
        } catch (IllegalArgumentException e) {
            if (!logits.isfinite().all().item_bool()) throw new NonFiniteException(what);
            throw e;
        }
    }
}
