package io.vlmrl.rl;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.KernelsConfig;
import io.vlmrl.kernels.LmHeadLogProbs;
import io.vlmrl.kernels.LogProbs;
import io.vlmrl.kernels.NonFiniteLogitsException;
import io.vlmrl.kernels.NonFinitePolicy;
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
import io.vlmrl.policy.ResponseLogProbs;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The update half of an RL step: K passes of mini-batch updates over a {@link RolloutBatch}.
 * Each micro-batch runs token log-probs and entropy → policy loss → backward; each mini-batch
 * ends in one {@link OptimizerStep}.
 *
 * <p><b>Fused LM head</b> ({@code kernels.fused_lm_head}, on by default with the fused backend):
 * the micro-batch's final hidden states and the LM head go through {@link LmHeadLogProbs} in
 * chunks of whole responses, and each chunk's policy loss is computed as soon as its log-probs
 * are known ({@link LmHeadLogProbs#forwardBackward}): the [B, T, V] logits are never built. The
 * loss of a chunk of rows with the mini-batch's denominators and the rollout's advantage
 * statistics is exactly that rows' share of the micro-batch loss (the same rule that makes
 * micro-batches add up to the mini-batch), so the gradients equal the logits path's. Off, or with
 * the eager backend: response logits → {@link LogProbs} → loss → backward into the logits.
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
    private final KernelsConfig kernels;
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
    public PolicyUpdater(Policy policy, Policy reference, OptimizerStep optimizer, LossConfig loss, KernelsConfig kernels,
                         double temperature, OptimConfig optim) {
        this.policy = policy;
        this.reference = reference;
        this.optimizer = optimizer;
        this.backend = kernels.backend();
        this.kernels = kernels;
        this.lossConfig = loss.policyLossConfig(backend);
        this.loss = PolicyLossRegistry.get(lossConfig.lossMode());
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

    /** Accumulates one micro-batch's gradients into the policy's parameters (package-private for tests). */
    PolicyLossMetrics trainMicroBatch(RolloutBatch batch, int[] rows, Denominators denominators,
                                      AdvantageStats stats) {
        try (PointerScope scope = new PointerScope()) {
            RolloutBatch.Slice s = batch.slice(rows);
            if (kernels.usesFusedLmHead()) {
                return trainFusedLmHead(s, denominators, stats);
            }
            Tensor logits = policy.responseLogits(s.prompts(), s.responseIds());
            LogProbs lp = logProbs(() -> LogProbs.compute(backend, logits, s.responseIds(), temperature, true),
                    "the policy's logits (training forward)");
            PolicyLossResult result = loss.compute(lossInputs(s, 0, s.rows().length, lp.logp(), lp.entropy(),
                    denominators, stats), lossConfig);
            lp.backward(result.gradLogp(), result.gradEntropy(), true);
            return result.metrics();
        }
    }

    /** One sweep over chunks of whole responses: log-probs, the chunk's loss, its backward. */
    private PolicyLossMetrics trainFusedLmHead(RolloutBatch.Slice s, Denominators denominators, AdvantageStats stats) {
        Tensor hidden = policy.responseHidden(s.prompts(), s.responseIds());
        Tensor weight = ResponseLogProbs.lmHeadWeight(policy, hidden);
        long t = s.responseIds().size(1);
        long chunk = ResponseLogProbs.chunkTokens(kernels, weight, t);
        PolicyLossMetrics[] sum = {PolicyLossMetrics.empty()};
        logProbs(() -> LmHeadLogProbs.forwardBackward(hidden, weight, s.responseIds(), temperature, true, chunk,
                NonFinitePolicy.ERROR, (start, logp, entropy) -> {
                    long first = start / t;
                    long count = logp.numel() / t;
                    PolicyLossResult r = loss.compute(lossInputs(s, first, count, logp.view(count, t),
                            entropy.view(count, t), denominators, stats), lossConfig);
                    sum[0] = sum[0].plus(r.metrics());
                    return new LmHeadLogProbs.Upstream(r.gradLogp(), r.gradEntropy());
                }), "the policy's logits (training forward)");
        return sum[0];
    }

    /** The loss inputs of rows [first, first + count) of the micro-batch. */
    private static PolicyLossInputs lossInputs(RolloutBatch.Slice s, long first, long count, Tensor logp, Tensor entropy,
                                               Denominators denominators, AdvantageStats stats) {
        boolean all = first == 0 && count == s.rows().length;
        PolicyLossInputs.Builder in = PolicyLossInputs.builder(logp, rowsOf(s.oldLogp(), first, count, all),
                        rowsOf(s.advantages(), first, count, all), rowsOf(s.mask(), first, count, all))
                .klWeights(rowsOf(s.klWeights(), first, count, all))
                .entropy(entropy)
                .denominators(denominators)
                .advantageStats(stats);
        if (s.refLogp() != null) in.ref(rowsOf(s.refLogp(), first, count, all));
        return in.build();
    }

    private static Tensor rowsOf(Tensor t, long first, long count, boolean all) {
        return all ? t : t.narrow(0, first, count);
    }

    /** oldLogp ← the policy's log-probs before any update, micro-batch by micro-batch as in the first pass. */
    void recordOldLogProbs(RolloutBatch batch, MiniBatchPlan firstPass) {
        recordLogProbs(policy, batch, firstPass, batch.oldLogp);
    }

    void recordReferenceLogProbs(RolloutBatch batch, MiniBatchPlan firstPass) {
        batch.refLogp = new float[batch.size() * batch.maxLength()];
        recordLogProbs(reference, batch, firstPass, batch.refLogp);
    }

    private void recordLogProbs(Policy model, RolloutBatch batch, MiniBatchPlan plan, float[] target) {
        for (List<int[]> mini : plan.miniBatches()) {
            for (int[] rows : mini) {
                try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
                    RolloutBatch.Slice s = batch.slice(rows);
                    // Same call as in training (entropy included, same chunks) so the forward is the
                    // same sequence of operations.
                    ResponseLogProbs.Scores scores = logProbs(() -> ResponseLogProbs.score(model, s.prompts(),
                            s.responseIds(), temperature, true, kernels), model == reference
                            ? "the reference policy's logits" : "the policy's logits (old log-probs)");
                    Tensor logp = scores.logp().mul(s.mask()).contiguous();
                    float[] values = new float[(int) logp.numel()];
                    logp.data_ptr_float().get(values);
                    RolloutBatch.scatter(rows, values, target, batch.maxLength());
                }
            }
        }
    }

    /**
     * Runs a log-prob computation, reporting logits that are not finite (a diverged policy) as
     * divergence of {@code what}, which the update's {@code optim.on_non_finite} handles.
     */
    private static <T> T logProbs(Supplier<T> computation, String what) {
        try {
            return computation.get();
        } catch (NonFiniteLogitsException e) {
            throw (NonFiniteException) new NonFiniteException(what).initCause(e);
        }
    }
}
