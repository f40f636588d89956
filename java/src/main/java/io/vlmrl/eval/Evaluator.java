package io.vlmrl.eval;

import io.vlmrl.data.Dataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.ResponseFormat;
import io.vlmrl.data.Reward;
import io.vlmrl.data.RewardFunction;
import io.vlmrl.model.GenerationResult;
import io.vlmrl.model.ResponseGenerator;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.policy.Tokenizer;
import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.train.PromptBatch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Greedy-decoding accuracy of a model: generates one response per problem (prompts laid out as
 * in RL training, {@link PromptBatch}) and scores it with the {@link RewardFunction}. Greedy
 * decoding makes the result a pure function of the weights and the data.
 */
public final class Evaluator {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluator.class);

    private final VisionLanguageModel model;
    private final Tokenizer tokenizer;
    private final RewardFunction reward;
    private final EvalOptions options;

    public Evaluator(VisionLanguageModel model, Tokenizer tokenizer, RewardFunction reward, EvalOptions options) {
        if (model == null || tokenizer == null || reward == null || options == null) {
            throw new IllegalArgumentException("model, tokenizer, reward and options must not be null");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.reward = reward;
        this.options = options;
    }

    /** Evaluates the first {@code min(options.problems(), data.size())} problems of {@code data}. */
    public EvalResult evaluate(Dataset data) {
        int n = Math.min(options.problems(), data.size());
        if (n < 1) {
            throw new IllegalArgumentException("dataset " + data.name() + " must contain at least one problem, got 0");
        }
        long start = System.nanoTime();
        ResponseGenerator generator = new ResponseGenerator(model);
        SamplingConfig greedy = SamplingConfig.greedy(options.maxNewTokens());
        Map<String, int[]> perType = new LinkedHashMap<>(); // type -> {problems, correct}
        List<EvalResult.Example> examples = new ArrayList<>();
        int correct = 0;
        int wellFormed = 0;
        double rewardSum = 0;
        long tokenSum = 0;
        // No train/eval switch: the model has no dropout or batch norm (see SftTrainer).
        for (int from = 0; from < n; from += options.batchSize()) {
            int to = Math.min(n, from + options.batchSize());
            List<Problem> batch = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                batch.add(data.get(i));
            }
            int[][] responses = generate(generator, batch, greedy);
            for (int i = 0; i < batch.size(); i++) {
                Problem problem = batch.get(i);
                String text = tokenizer.decode(responses[i]);
                Reward r = reward.score(text, problem.answer());
                correct += r.correct() ? 1 : 0;
                wellFormed += ResponseFormat.parse(text).wellFormed() ? 1 : 0;
                rewardSum += r.total();
                tokenSum += responses[i].length;
                int[] counts = perType.computeIfAbsent(problem.type(), t -> new int[2]);
                counts[0]++;
                counts[1] += r.correct() ? 1 : 0;
                if (examples.size() < options.examples()) {
                    examples.add(new EvalResult.Example(problem.type(), problem.question(), problem.answer(), text, r.correct()));
                }
            }
        }
        Map<String, EvalResult.TypeAccuracy> byType = new LinkedHashMap<>();
        perType.forEach((type, c) -> byType.put(type, new EvalResult.TypeAccuracy(c[0], c[1], (double) c[1] / c[0])));
        double seconds = (System.nanoTime() - start) / 1e9;
        EvalResult result = new EvalResult(data.name(), n, correct, (double) correct / n, (double) wellFormed / n,
                rewardSum / n, (double) tokenSum / n, byType, examples, seconds);
        LOG.info("eval on {}: accuracy {} ({}/{}), format {}, {} s", data.name(),
                String.format(Locale.ROOT, "%.3f", result.accuracy()), correct, n,
                String.format(Locale.ROOT, "%.3f", result.formatRate()), String.format(Locale.ROOT, "%.1f", seconds));
        return result;
    }

    /** Token ids of each generated response (the end token included when it was produced). */
    private int[][] generate(ResponseGenerator generator, List<Problem> batch, SamplingConfig greedy) {
        try (PointerScope scope = new PointerScope()) {
            PromptBatch prompts = PromptBatch.of(batch, 1, tokenizer);
            GenerationResult result = generator.generate(prompts.pixels(), prompts.promptIds(), null, greedy);
            return result.tokens();
        }
    }
}
