package io.vlmrl.rl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Split;
import io.vlmrl.kernels.KernelsConfig;
import io.vlmrl.loss.AdvantageStats;
import io.vlmrl.loss.Denominators;
import io.vlmrl.loss.PolicyLossMetrics;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.Rewards;
import io.vlmrl.run.RunConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer's update with the fused LM head ({@code kernels.fused_lm_head=true}, the
 * {@link io.vlmrl.kernels.LmHeadLogProbs} op) equals the logits path ({@code false}) on the tiny
 * built-in model (tied embeddings): same recorded old and reference log-probs, same loss metrics,
 * same gradients on every trainable parameter, within float tolerance.
 */
class LmHeadLogProbsTrainerTest {

    @TempDir
    Path dir;

    private static final class Side implements AutoCloseable {
        final Policy policy;
        final Policy reference;
        final PolicyUpdater updater;
        final RolloutBatch batch;

        Side(RunConfig c, KernelsConfig kernels, List<ScoredGroup> groups, float[] advantages) {
            policy = RlTrainerTest.tinyPolicy(c);
            reference = policy.frozenCopy();
            OptimizerStep optimizer = OptimizerStep.of(policy.trainableParameters(), c.optim());
            updater = new PolicyUpdater(policy, reference, optimizer, c.loss(), kernels, c.rollout().temperature(),
                    c.optim());
            batch = new RolloutBatch(groups, c.rollout().maxResponseLength(), policy.tokenizer().padId());
            System.arraycopy(advantages, 0, batch.advantages, 0, advantages.length);
            for (int i = 0; i < batch.size(); i++) batch.klWeights[i] = 0.5f + 0.05f * i;
        }

        @Override
        public void close() {
            policy.close();
            reference.close();
        }
    }

    /** Gradient-check chunk sizes: 0 = the default (one chunk for this model), 6 = one response per chunk, 13 = two. */
    @ParameterizedTest(name = "lm_head_chunk_tokens={0}")
    @ValueSource(ints = {0, 6, 13})
    void fusedLmHeadUpdateEqualsTheLogitsPath(int chunkTokens) throws Exception {
        RunConfig c = RlTrainerTest.tiny("apo", "kernels.backend=fused", "loss.kl_beta=0.05");
        assertTrue(c.loss().klEnabled(), "the KL term (reference log-probs, DADS weights) is exercised");
        KernelsConfig on = c.with("kernels.lm_head_chunk_tokens=" + chunkTokens).kernels();
        KernelsConfig off = c.with("kernels.fused_lm_head=false").kernels();
        assertTrue(on.usesFusedLmHead());
        assertTrue(!off.usesFusedLmHead());

        List<ScoredGroup> groups;
        try (BuiltinPolicy sampling = RlTrainerTest.tinyPolicy(c)) {
            Dataset train = new BuiltinTask(c.task()).dataset(Split.TRAIN, BuiltinTask.TRAIN_POOL);
            groups = new RolloutSampler(sampling, train, Rewards.create(c.reward(), true), c.rollout(), c.reward())
                    .sample(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
                            new long[] {21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31});
        }
        int n = groups.stream().mapToInt(ScoredGroup::size).sum();
        float[] advantages = new float[n];
        Random rng = new Random(2);
        for (int i = 0; i < n; i++) advantages[i] = (float) rng.nextGaussian();

        try (Side fused = new Side(c, on, groups, advantages); Side logits = new Side(c, off, groups, advantages);
             PointerScope scope = new PointerScope()) {
            MiniBatchPlan plan = GlobalRows.local(fused.batch).plan(c.optim().miniBatchSize(),
                    c.optim().microBatchSize(), new Random(3));
            for (Side side : List.of(fused, logits)) {
                side.updater.recordOldLogProbs(side.batch, plan);
                side.updater.recordReferenceLogProbs(side.batch, plan);
            }
            assertArraysClose("old log-probs", fused.batch.oldLogp, logits.batch.oldLogp, 2e-5);
            assertArraysClose("reference log-probs", fused.batch.refLogp, logits.batch.refLogp, 2e-5);

            List<int[]> mini = plan.miniBatches().get(0);
            int[] all = mini.stream().flatMapToInt(java.util.Arrays::stream).toArray();
            PolicyLossMetrics[] metrics = new PolicyLossMetrics[2];
            int k = 0;
            for (Side side : List.of(fused, logits)) {
                RolloutBatch b = side.batch;
                Denominators d = new Denominators(b.validTokens(all), b.nonEmpty(all), all.length, b.maxLength());
                AdvantageStats stats = GlobalRows.local(b).advantageStats();
                PolicyLossMetrics sum = PolicyLossMetrics.empty();
                for (int[] micro : mini) sum = sum.plus(side.updater.trainMicroBatch(b, micro, d, stats));
                metrics[k++] = sum;
            }
            Map<String, Double> a = metrics[0].toMap();
            Map<String, Double> b = metrics[1].toMap();
            assertEquals(b.keySet(), a.keySet());
            for (String name : a.keySet()) {
                assertEquals(b.get(name), a.get(name), 1e-5 * Math.max(1, Math.abs(b.get(name))), "metric " + name);
            }
            assertTrue(Math.abs(b.get("pg_loss")) > 1e-4 && b.get("entropy") > 0, "the loss is not trivial");

            Map<String, Tensor> gf = fused.policy.trainableParameters();
            Map<String, Tensor> gl = logits.policy.trainableParameters();
            assertEquals(gl.keySet(), gf.keySet());
            int compared = 0;
            for (String name : gl.keySet()) {
                Tensor expected = gl.get(name).grad();
                Tensor actual = gf.get(name).grad();
                assertEquals(expected.defined(), actual.defined(), name + ": gradient defined on one side only");
                if (!expected.defined()) continue;
                double scale = expected.abs().max().item_double();
                double diff = actual.sub(expected).abs().max().item_double();
                assertTrue(diff <= 1e-5 * Math.max(scale, 1e-3), name + ": gradients differ by " + diff
                        + " (max |grad| " + scale + ")");
                compared++;
            }
            assertTrue(compared >= 5, "compared " + compared + " parameter gradients");
            String head = "language.model.embed_tokens.weight";
            assertTrue(gl.containsKey(head) && gl.get(head).grad().abs().max().item_double() > 0,
                    "the tied LM head / embedding gets a gradient: " + gl.keySet());
        }
    }

    @Test
    void ratioIsExactlyOneOnTheFirstPassWithTheFusedLmHead() throws Exception {
        RunConfig c = RlTrainerTest.tiny("acpo", "steps=1", "kernels.backend=fused",
                "kernels.lm_head_chunk_tokens=13");
        assertTrue(c.kernels().usesFusedLmHead());
        try (RlTrainer trainer = RlTrainerTest.trainer(c, dir.resolve("ratio"), RlTrainerTest.tinyPolicy(c))) {
            RlTrainer.StepReport r = trainer.step();
            assertEquals(2, r.passMeanRatio().size(), "K = 2 passes");
            assertEquals(1.0, r.passMeanRatio().get(0), 0.0,
                    "first pass: scoring and training run the same chunks, bit for bit");
        }
    }

    private static void assertArraysClose(String what, float[] actual, float[] expected, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        boolean nonZero = false;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
            nonZero |= expected[i] != 0;
        }
        assertTrue(nonZero, what + ": all zero");
        assertTrue(worst <= tolerance, what + " differ by " + worst);
    }
}
