package io.vlmrl.eval;

import io.vlmrl.config.Schema;
import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.Policy;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.reward.Reward;
import io.vlmrl.reward.RewardFunction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Greedy-decoding accuracy of a policy: generates one response per problem (prompts encoded by the
 * policy exactly as in training) and scores it with the run's {@link RewardFunction}; a problem
 * counts as solved when the reward says {@link Reward#correct()}. Greedy decoding makes the result
 * a pure function of the weights and the data.
 */
public final class Evaluator {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluator.class);

    private final Policy policy;
    private final RewardFunction reward;
    private final EvalConfig config;

    public Evaluator(Policy policy, RewardFunction reward, EvalConfig config) {
        if (policy == null || reward == null || config == null) {
            throw new IllegalArgumentException("policy, reward and config must not be null");
        }
        this.policy = policy;
        this.reward = reward;
        this.config = Schema.check(config);
    }

    /** Evaluates the first {@code min(eval.size, data.size())} problems of {@code data}. */
    public EvalResult evaluate(Dataset data) {
        int n = Math.min(config.size(), data.size());
        if (n < 1) {
            throw new IllegalArgumentException("dataset " + data.name() + " must contain at least one problem, got 0");
        }
        long start = System.nanoTime();
        SamplingConfig greedy = SamplingConfig.greedy(config.maxNewTokens());
        Map<String, int[]> perType = new LinkedHashMap<>(); // type -> {problems, correct}
        List<EvalResult.Example> examples = new ArrayList<>();
        int correct = 0;
        int formatted = 0;
        boolean hasFormat = false;
        double rewardSum = 0;
        long tokenSum = 0;
        for (int from = 0; from < n; from += config.batchSize()) {
            int to = Math.min(n, from + config.batchSize());
            List<Problem> batch = new ArrayList<>(to - from);
            List<EncodedPrompt> prompts = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                Problem p = data.get(i);
                batch.add(p);
                prompts.add(policy.encodePrompt(p));
            }
            GeneratedResponses responses = policy.generate(prompts, 1, greedy);
            for (int i = 0; i < batch.size(); i++) {
                Problem problem = batch.get(i);
                String text = policy.decodeResponse(responses.tokens()[i]);
                Reward r = reward.score(problem, text);
                correct += r.correct() ? 1 : 0;
                Double format = r.components().get("format");
                hasFormat |= format != null;
                formatted += format != null && format > 0 ? 1 : 0;
                rewardSum += r.score();
                tokenSum += responses.tokens()[i].length;
                int[] counts = perType.computeIfAbsent(problem.type(), t -> new int[2]);
                counts[0]++;
                counts[1] += r.correct() ? 1 : 0;
                if (examples.size() < config.examples()) {
                    examples.add(new EvalResult.Example(problem.id(), problem.type(), problem.question(), problem.answer(),
                            text, r.correct()));
                }
            }
        }
        Map<String, EvalResult.TypeAccuracy> byType = new LinkedHashMap<>();
        perType.forEach((type, c) -> byType.put(type, new EvalResult.TypeAccuracy(c[0], c[1], (double) c[1] / c[0])));
        double seconds = (System.nanoTime() - start) / 1e9;
        EvalResult result = new EvalResult(data.name(), n, correct, (double) correct / n,
                hasFormat ? (double) formatted / n : null, rewardSum / n, (double) tokenSum / n, byType, examples, seconds);
        LOG.info("eval on {}: accuracy {} ({}/{}), {} s", data.name(),
                String.format(Locale.ROOT, "%.3f", result.accuracy()), correct, n, String.format(Locale.ROOT, "%.1f", seconds));
        return result;
    }
}
