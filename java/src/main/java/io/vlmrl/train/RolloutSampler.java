package io.vlmrl.train;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Problem;
import io.vlmrl.data.Reward;
import io.vlmrl.data.RewardFunction;
import io.vlmrl.data.Split;
import io.vlmrl.model.GenerationResult;
import io.vlmrl.model.ResponseGenerator;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.policy.Tokenizer;
import io.vlmrl.model.VisionLanguageModel;
import org.bytedeco.javacpp.PointerScope;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Draws B training prompts, samples G responses for each with the behaviour policy (the
 * current weights) and scores them: one generation batch of {@link ScoredGroup}s.
 */
public final class RolloutSampler {

    /** Training problems are drawn from the first this-many indices of the train split. */
    static final int TRAIN_POOL = 1_000_000;

    private final VisionLanguageModel policy;
    private final ResponseGenerator generator;
    private final Tokenizer tokenizer;
    private final BuiltinTask task;
    private final RewardFunction rewardFunction;
    private final TrainConfig config;

    public RolloutSampler(VisionLanguageModel policy, Tokenizer tokenizer, BuiltinTask task, TrainConfig config) {
        this.policy = policy;
        this.generator = new ResponseGenerator(policy);
        this.tokenizer = tokenizer;
        this.task = task;
        this.config = config;
        this.rewardFunction = new RewardFunction(RewardFunction.DEFAULT_FORMAT_WEIGHT, config.reasoningWeight());
    }

    /**
     * One generation batch.
     *
     * @param rng          draws the prompts
     * @param samplingSeed seeds the token sampling
     */
    public List<ScoredGroup> sample(Random rng, long samplingSeed) {
        int b = config.promptsPerStep();
        int g = config.groupSize();
        List<Problem> problems = new ArrayList<>(b);
        for (int i = 0; i < b; i++) problems.add(task.problem(Split.TRAIN, rng.nextInt(TRAIN_POOL)));
        SamplingConfig sampling = new SamplingConfig(config.temperature(), config.topP(), config.topK(),
                config.maxResponseLength(), false, samplingSeed);

        GenerationResult result;
        try (PointerScope scope = new PointerScope()) {
            PromptBatch prompts = PromptBatch.of(problems, g, tokenizer);
            result = generator.generate(prompts.pixels(), prompts.promptIds(), null, sampling);
            // Only the Java arrays of the result are used past this point; its tensors are freed with the scope.
        }

        List<ScoredGroup> groups = new ArrayList<>(b);
        for (int p = 0; p < b; p++) {
            int[][] tokens = new int[g][];
            float[][] logp = new float[g][];
            boolean[] truncated = new boolean[g];
            double[] rewards = new double[g];
            double[] accuracy = new double[g];
            boolean[] correct = new boolean[g];
            for (int i = 0; i < g; i++) {
                int row = p * g + i;
                tokens[i] = result.tokens()[row];
                logp[i] = result.tokenLogProbs()[row];
                truncated[i] = result.truncated()[row];
                Reward r = rewardFunction.score(tokenizer.decode(tokens[i]), problems.get(p).answer(),
                        problems.get(p).workedResponse());
                rewards[i] = r.total() + overlongPenalty(tokens[i].length);
                accuracy[i] = r.accuracy();
                correct[i] = r.correct();
            }
            groups.add(new ScoredGroup(problems.get(p), tokens, logp, truncated, rewards, accuracy, correct));
        }
        return groups;
    }

    private double overlongPenalty(int length) {
        if (!config.overlongShaping()) return 0.0;
        return io.vlmrl.algo.OverlongShaping.penalty(length, config.overlongMaxLength(), config.overlongCache());
    }
}
