package io.vlmrl.run;

import io.vlmrl.kernels.ComputeThreads;
import io.vlmrl.eval.EvalResult;
import io.vlmrl.eval.Evaluator;
import io.vlmrl.policy.Policy;
import io.vlmrl.reward.GuardedReward;
import io.vlmrl.reward.Rewards;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What {@code vlmrl eval} does: greedy accuracy of the model at {@code model.path} on the held-out
 * problems (the built-in task's, or {@code data.eval}), scored by the run's reward.
 */
public final class EvalJob {

    private EvalJob() {
    }

    public static EvalResult run(RunConfig config, Path out) throws IOException {
        if (!config.model().loaded()) {
            throw new IllegalArgumentException("--model: expected the model directory to evaluate, got none");
        }
        RunData data = RunData.open(config, RunData.Need.EVAL);
        var reward = new GuardedReward(Rewards.create(config.reward(), data.builtin()), config.reward().onError());
        ComputeThreads.use(config.threads());
        try (Policy policy = Policies.load(Path.of(config.model().path()), config.model())) {
            for (int i = 0; i < data.heldOut().size(); i++) policy.check(data.heldOut().get(i));
            EvalResult result = new Evaluator(policy, reward, config.eval()).evaluate(data.heldOut());
            result.writeJson(out);
            return result;
        }
    }
}
