/**
 * Policy losses for RL fine-tuning, modelled on verl's {@code core_algos.py} registry.
 *
 * <p>A training step computes the advantage statistics once per rollout batch (for AAAC) and
 * the aggregation denominators once per mini-batch, then runs each micro-batch:
 * <pre>{@code
 * PolicyLossConfig cfg = PolicyLossConfig.clipHigher()            // DAPO: eps 0.2 / 0.28
 *         .aggregation(Aggregation.TOKEN_MEAN)
 *         .build();
 * Denominators denoms = Denominators.of(microMasks);              // whole mini-batch
 * PolicyLossMetrics sums = PolicyLossMetrics.empty();
 * for (MicroBatch mb : microBatches) {
 *     LogProbs lp = LogProbs.compute(KernelBackend.FUSED, model.logits(mb), mb.targets(), 1.0, true);
 *     PolicyLossInputs in = PolicyLossInputs.builder(lp.logp(), mb.oldLogp(), mb.adv(), mb.mask())
 *             .entropy(lp.entropy())
 *             .denominators(denoms)
 *             .build();
 *     PolicyLossResult r = PolicyLoss.compute(in, cfg);            // fused kernel, one pass
 *     lp.backward(r.gradLogp(), r.gradEntropy(), true);           // into the model's graph
 *     sums = sums.plus(r.metrics());
 * }
 * optimizer.step();
 * Map<String, Double> metrics = sums.toMap();                     // pg_loss, pg_clipfrac, ...
 * }</pre>
 * If {@code logp} itself requires grad (e.g. computed with plain LibTorch ops),
 * {@link io.vlmrl.loss.PolicyLoss#compute} back-propagates into it directly. Select another
 * loss with {@code lossMode} ({@code ppo}, {@code clip-higher}, {@code aaac}, or one added with
 * {@link io.vlmrl.loss.PolicyLossRegistry#register}), and the LibTorch reference implementation
 * with {@code backend(KernelBackend.EAGER)}.
 */
package io.vlmrl.loss;
