package io.vlmrl.rl;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.Split;
import io.vlmrl.dist.Collectives;
import io.vlmrl.dist.DistConfig;
import io.vlmrl.dist.GradientReducer;
import io.vlmrl.dist.RanksInThreads;
import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.LogProbs;
import io.vlmrl.loss.AdvantageStats;
import io.vlmrl.loss.Denominators;
import io.vlmrl.loss.PolicyLossConfig;
import io.vlmrl.loss.PolicyLossInputs;
import io.vlmrl.loss.PolicyLossRegistry;
import io.vlmrl.loss.PolicyLossResult;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.Rewards;
import io.vlmrl.run.RunConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gradient of a mini-batch split over two ranks (threads of this JVM, Gloo over loopback)
 * equals the single-process gradient of the whole mini-batch, for every aggregation mode, when
 * the ranks hold different numbers of responses and of tokens: rank 0 holds three groups of long
 * responses, rank 1 one group of short ones, so a per-rank mean (token counts, response counts,
 * AAAC statistics of one rank) gives another gradient, which the test also checks.
 *
 * <p>Tolerance: 1e-6 of the gradient's largest entry (float32 sums in another order).
 */
class DataParallelGradientTest {

    static final int G = 4;
    static final int T = 6;
    /** Response lengths: rank 0's groups 0-2 are long, rank 1's group 3 short (one response empty). */
    static final int[][] LENGTHS = {{6, 6, 5, 6}, {6, 4, 6, 6}, {5, 6, 6, 6}, {1, 0, 2, 1}};
    static final int[] OWNER = {0, 0, 0, 1};

    static RunConfig config(String aggregation) {
        return RlTrainerTest.tiny("acpo", "loss.aggregation=" + aggregation, "rollout.max_response_length=" + T,
                "reward.overlong_max_length=" + T);
    }

    /** The step's four groups, made by hand (tokens, rewards) so that lengths differ as described. */
    static List<ScoredGroup> groups(Policy policy, Dataset data) {
        Random rng = new Random(5);
        int vocab = policy.tokenizer().vocabSize();
        List<ScoredGroup> out = new ArrayList<>();
        for (int k = 0; k < LENGTHS.length; k++) {
            Problem problem = data.get(k);
            int[][] tokens = new int[G][];
            float[][] logp = new float[G][];
            double[] rewards = new double[G];
            boolean[] correct = new boolean[G];
            for (int i = 0; i < G; i++) {
                tokens[i] = new int[LENGTHS[k][i]];
                for (int j = 0; j < tokens[i].length; j++) tokens[i][j] = 4 + rng.nextInt(vocab - 4);
                logp[i] = new float[tokens[i].length];
                rewards[i] = rng.nextInt(3) / 2.0;
                correct[i] = rewards[i] > 0.5;
            }
            rewards[0] = 1; // never all equal: every group has advantages
            rewards[1] = 0;
            out.add(new ScoredGroup(problem, policy.encodePrompt(problem), tokens, logp, new boolean[G], rewards, correct));
        }
        return out;
    }

    /**
     * This rank's gradient after the all-reduce, computed as the updater does: its rows of the
     * step's single mini-batch (plan, denominators and AAAC statistics of every rank), micro-batches
     * of 3, then the optimizer step's bucketed sum.
     *
     * @param perRankMean divide by this rank's own counts and statistics instead (the mistake the test must catch)
     */
    static Map<String, float[]> gradient(RunConfig c, int rank, Collectives world, boolean perRankMean) {
        Dataset data = new BuiltinTask(c.task()).dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL);
        try (Policy policy = RlTrainerTest.tinyPolicy(c); PointerScope scope = new PointerScope()) {
            List<ScoredGroup> all = groups(policy, data);
            List<ScoredGroup> mine = new ArrayList<>();
            for (int k = 0; k < all.size(); k++) if (!world.distributed() || OWNER[k] == rank) mine.add(all.get(k));
            RolloutBatch batch = new RolloutBatch(mine, T, policy.tokenizer().padId());
            new AdvantageStage(c.loss(), G).apply(batch);
            batch.exchange(world.distributed() ? OWNER : new int[] {0, 0, 0, 0}, G, world);
            MiniBatchPlan plan = batch.global().plan(1000, 3, new Random(1));
            PolicyLossConfig cfg = c.loss().policyLossConfig(KernelBackend.EAGER);
            int[] rows = plan.responsesOf(0);
            AdvantageStats stats = perRankMean ? GlobalRows.local(batch).advantageStats() : batch.global().advantageStats();
            Denominators denominators = perRankMean
                    ? new Denominators(batch.validTokens(rows), batch.nonEmpty(rows), rows.length, T) : plan.denominators(0);
            for (int[] micro : plan.miniBatches().get(0)) {
                RolloutBatch.Slice s = batch.slice(micro);
                try (NoGradGuard noGrad = new NoGradGuard()) { // old = the current log-probs (ratio 1)
                    Tensor old = LogProbs.compute(KernelBackend.EAGER, policy.responseLogits(s.prompts(), s.responseIds()),
                            s.responseIds(), 1.0, false).logp().mul(s.mask());
                    s.oldLogp().copy_(old);
                }
                Tensor logits = policy.responseLogits(s.prompts(), s.responseIds());
                LogProbs lp = LogProbs.compute(KernelBackend.EAGER, logits, s.responseIds(), 1.0, true);
                PolicyLossInputs in = PolicyLossInputs.builder(lp.logp(), s.oldLogp(), s.advantages(), s.mask())
                        .klWeights(s.klWeights()).entropy(lp.entropy()).denominators(denominators).advantageStats(stats).build();
                PolicyLossResult r = PolicyLossRegistry.get(cfg.lossMode()).compute(in, cfg);
                lp.backward(r.gradLogp(), r.gradEntropy(), false);
            }
            List<Tensor> params = new ArrayList<>(policy.trainableParameters().values());
            assertTrue(new GradientReducer(world, params).allReduce(true));
            Map<String, float[]> grads = new LinkedHashMap<>();
            policy.trainableParameters().forEach((name, p) -> {
                Tensor g = p.grad().defined() ? p.grad().contiguous() : p.detach().mul(new org.bytedeco.pytorch.Scalar(0)).contiguous();
                float[] v = new float[(int) g.numel()];
                g.data_ptr_float().get(v);
                grads.put(name, v);
            });
            return grads;
        }
    }

    static double largestDifference(Map<String, float[]> a, Map<String, float[]> b) {
        double worst = 0;
        for (String name : a.keySet()) {
            float[] x = a.get(name), y = b.get(name);
            for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst;
    }

    static double largest(Map<String, float[]> a) {
        double worst = 0;
        for (float[] x : a.values()) for (float v : x) worst = Math.max(worst, Math.abs(v));
        return worst;
    }

    @ParameterizedTest
    @ValueSource(strings = {"token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"})
    void ranksWithDifferentTokenCountsGiveTheSingleProcessGradient(String aggregation) throws Exception {
        RunConfig c = config(aggregation);
        Map<String, float[]> single = gradient(c, 0, Collectives.single(), false);
        List<Map<String, float[]>> ranks = RanksInThreads.run(2, DistConfig.defaults(), (r, world) -> gradient(c, r, world, false));
        List<Map<String, float[]>> perRankMean = RanksInThreads.run(2, DistConfig.defaults(), (r, world) -> gradient(c, r, world, true));
        double scale = largest(single);
        assertTrue(scale > 0, "the mini-batch has a gradient");
        for (int r = 0; r < 2; r++) {
            double d = largestDifference(single, ranks.get(r));
            assertTrue(d <= 1e-6 * scale, aggregation + ", rank " + r + ": differs from one process by " + d + " (largest entry " + scale + ")");
        }
        double wrong = largestDifference(single, perRankMean.get(0));
        assertTrue(wrong > 1e-3 * scale, aggregation + ": a per-rank mean should give another gradient, differs by only " + wrong);
    }

    @Test
    void everyRankMakesTheSameUpdatesAndAllSkipWhenOneRanksLossIsNotFinite() throws Exception {
        RunConfig c = config("token-mean");
        List<double[]> out = RanksInThreads.run(2, DistConfig.defaults(), (rank, world) -> {
            try (Policy policy = RlTrainerTest.tinyPolicy(c);
                 OptimizerStep optimizer = OptimizerStep.of(policy.trainableParameters(), c.optim(), world)) {
                // Rank 1 has no gradient at all (no rows in this update), rank 0 a finite loss: one update.
                if (rank == 0) {
                    try (PointerScope scope = new PointerScope()) {
                        policy.trainableParameters().values().iterator().next().sum().backward();
                    }
                }
                double first = optimizer.apply(true);
                // Rank 1's loss is not finite: neither rank updates.
                double second = optimizer.apply(rank != 1);
                return new double[] {first, second};
            }
        });
        assertEquals(out.get(0)[0], out.get(1)[0], 0.0, "the global norm, on both ranks");
        assertTrue(out.get(0)[0] > 0);
        assertTrue(Double.isNaN(out.get(0)[1]) && Double.isNaN(out.get(1)[1]), "both skipped");
    }

    @Test
    void aGroupIsSampledTheSameWhateverGroupsShareItsBatch() throws Exception {
        RunConfig c = RlTrainerTest.tiny("grpo");
        Dataset data = new BuiltinTask(c.task()).dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL);
        try (Policy policy = RlTrainerTest.tinyPolicy(c)) {
            RolloutSampler sampler = new RolloutSampler(policy, data, Rewards.create(c.reward(), true), c.rollout(), c.reward());
            long[] prompts = {11, 12, 13, 14, 15}, sampling = {21, 22, 23, 24, 25};
            List<ScoredGroup> whole = sampler.sample(prompts, sampling);
            List<ScoredGroup> parts = new ArrayList<>(sampler.sample(java.util.Arrays.copyOfRange(prompts, 0, 2),
                    java.util.Arrays.copyOfRange(sampling, 0, 2)));
            parts.addAll(sampler.sample(java.util.Arrays.copyOfRange(prompts, 2, 5), java.util.Arrays.copyOfRange(sampling, 2, 5)));
            for (int k = 0; k < whole.size(); k++) {
                assertEquals(whole.get(k).problem().id(), parts.get(k).problem().id(), "group " + k + "'s prompt");
                for (int i = 0; i < G; i++) {
                    assertEquals(java.util.Arrays.toString(whole.get(k).tokens()[i]), java.util.Arrays.toString(parts.get(k).tokens()[i]),
                            "group " + k + " response " + i);
                }
            }
        }
    }
}
