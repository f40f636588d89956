package io.vlmrl.rl;

import io.vlmrl.algo.Advantages;
import io.vlmrl.config.Schema;
import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.KernelsConfig;
import io.vlmrl.loss.LossConfig;
import io.vlmrl.optim.OptimConfig;
import io.vlmrl.reward.RewardConfig;
import io.vlmrl.store.CheckpointConfig;

import java.util.Set;

/**
 * Everything the RL loop reads: the run's seed and number of steps, and the sections of its stages
 * (rollout → advantages and loss → curriculum → reuse → optimizer → checkpoints). The rules that
 * tie two sections together are checked here, so that a bad combination is refused before any
 * work starts, whether the configuration comes from the command line or from Java.
 *
 * @param seed    seed of every random draw (prompts, sampling, shuffling), per step
 * @param steps   RL steps
 * @param kernels fused kernels or the eager LibTorch reference, and the fused LM head
 */
public record RlConfig(long seed, int steps, RolloutConfig rollout, RewardConfig reward, LossConfig loss,
                       CurriculumConfig curriculum, ReuseConfig reuse, OptimConfig optim,
                       CheckpointConfig checkpoint, KernelsConfig kernels) {

    /** Advantage estimators that compare a response with the others of its group. */
    private static final Set<String> GROUP_RELATIVE = Set.of("grpo", "drgrpo", "rloo");

    public RlConfig {
        if (steps < 0) throw new IllegalArgumentException("config key 'steps': expected an integer >= 0, got '" + steps + "'");
        Schema.check(rollout);
        Schema.check(reward);
        Schema.check(loss);
        Schema.check(curriculum);
        Schema.check(reuse);
        Schema.check(optim);
        Schema.check(checkpoint);
        Schema.check(kernels);
        int g = rollout.groupSize();
        if (g < 2 && GROUP_RELATIVE.contains(loss.advantage())) {
            throw new IllegalArgumentException("config key 'rollout.group_size': expected an integer >= 2 (with one response per "
                    + "prompt every " + loss.advantage() + " advantage is 0 and RL trains nothing), got '" + g + "'");
        }
        if (curriculum.nMax() > g) {
            throw new IllegalArgumentException("config key 'curriculum.n_max': expected -1 (G - 1) or an integer in [1, "
                    + g + " (rollout.group_size)], got '" + curriculum.nMax() + "'");
        }
        if (loss.dads() && !loss.klEnabled()) {
            throw new IllegalArgumentException("config key 'loss.dads': DADS weights the KL term, which is off (loss.kl: none); "
                    + "set loss.kl (e.g. k3) or loss.dads=false");
        }
        int lMax = reward.overlongMaxLengthFor(rollout.maxResponseLength());
        int lCache = reward.overlongCacheFor(rollout.maxResponseLength());
        if (reward.overlongShaping() && (lCache < 1 || lCache > lMax)) {
            throw new IllegalArgumentException("config key 'reward.overlong_cache': expected -1 or an integer in [1, " + lMax
                    + " (the overlong L_max)], got '" + lCache + "'");
        }
        if (!Advantages.names().contains(loss.advantage())) {
            throw new IllegalArgumentException("config key 'loss.advantage': expected one of " + Advantages.names()
                    + ", got '" + loss.advantage() + "'");
        }
    }

    /** The log-prob and loss implementation ({@code kernels.backend}). */
    public KernelBackend backend() {
        return kernels.backend();
    }

    /** Learning rate of step {@code step}. */
    public double lrAt(int step) {
        return optim.lrAt(step);
    }
}
