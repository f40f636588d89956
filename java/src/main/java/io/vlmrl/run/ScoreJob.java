package io.vlmrl.run;

import io.vlmrl.kernels.ComputeThreads;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.Policy;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code vlmrl score} does: the per-token log-probs and entropies of given responses under the
 * model at {@code model.path}, one output line per input record ({@link PromptRecords}):
 *
 * <pre>{"index": 0, "response_ids": [...], "logprobs": [...], "entropy": [...], "sum_logprob": -12.3}</pre>
 *
 * Records are scored {@code batchSize} at a time (one forward pass each; a prompt's images are
 * encoded once per batch). The output file appears only when every record is scored.
 */
public final class ScoreJob {

    /** What a run scored. */
    public record Summary(int records, long tokens, double sumLogprob) {
    }

    private ScoreJob() {
    }

    /**
     * @throws IllegalArgumentException for a missing {@code --model}, a bad record (its file:line) or a bad output path
     */
    public static Summary run(RunConfig config, Path data, Path out, int batchSize) throws IOException {
        if (!config.model().loaded()) {
            throw new IllegalArgumentException("--model: expected the model directory to score with, got none");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size: expected >= 1, got " + batchSize);
        }
        List<PromptRecord> records = PromptRecords.read(data, true);
        ComputeThreads.use(config.threads());
        long tokens = 0;
        double sum = 0;
        try (Policy policy = Policies.load(Path.of(config.model().path()), config.model());
             JsonlOutput output = JsonlOutput.open(out)) {
            PromptRecordEncoder encoder = new PromptRecordEncoder(policy);
            for (int from = 0; from < records.size(); from += batchSize) {
                List<PromptRecord> batch = records.subList(from, Math.min(records.size(), from + batchSize));
                List<EncodedPrompt> prompts = new ArrayList<>();
                List<int[]> responses = new ArrayList<>();
                for (PromptRecord r : batch) {
                    prompts.add(encoder.prompt(r));
                    responses.add(encoder.response(r));
                }
                TokenScores scores = TokenScores.of(policy, prompts, responses);
                for (int i = 0; i < batch.size(); i++) {
                    double rowSum = 0;
                    for (float v : scores.logprobs()[i]) {
                        rowSum += v;
                    }
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("index", batch.get(i).index());
                    line.put("response_ids", responses.get(i));
                    line.put("logprobs", scores.logprobs()[i]);
                    line.put("entropy", scores.entropy()[i]);
                    line.put("sum_logprob", rowSum);
                    output.write(line);
                    tokens += responses.get(i).length;
                    sum += rowSum;
                }
            }
            output.commit();
        }
        return new Summary(records.size(), tokens, sum);
    }
}
