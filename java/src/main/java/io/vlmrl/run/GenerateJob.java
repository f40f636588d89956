package io.vlmrl.run;

import io.vlmrl.kernels.ComputeThreads;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.Policy;
import io.vlmrl.policy.SamplingConfig;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code vlmrl generate} does: responses of the model at {@code model.path} to the prompts of
 * a {@link PromptRecords} file, {@code samples} per prompt, one output line per record:
 *
 * <pre>{"index": 0, "responses": [{"text": "...", "response_ids": [...], "logprobs": [...], "truncated": false}]}</pre>
 *
 * {@code response_ids} end with the end token when the response stopped by itself ({@code truncated}
 * false); {@code logprobs} are the sampled tokens' log-probs at the sampling temperature. Prompts
 * are generated {@code batchSize} at a time; batch k samples with seed {@code seed + k}, so the same
 * seed and batch size give the same responses. The output file appears only when every record is done.
 */
public final class GenerateJob {

    /** What a run generated. */
    public record Summary(int records, int responses, long tokens) {
    }

    private GenerateJob() {
    }

    /**
     * @throws IllegalArgumentException for a missing {@code --model}, a bad record (its file:line) or a bad output path
     */
    public static Summary run(RunConfig config, Path data, Path out, SamplingConfig sampling, int samples, int batchSize)
            throws IOException {
        if (!config.model().loaded()) {
            throw new IllegalArgumentException("--model: expected the model directory to generate with, got none");
        }
        if (samples < 1) {
            throw new IllegalArgumentException("--samples: expected >= 1, got " + samples);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size: expected >= 1, got " + batchSize);
        }
        List<PromptRecord> records = PromptRecords.read(data, false);
        ComputeThreads.use(config.threads());
        int responses = 0;
        long tokens = 0;
        try (Policy policy = Policies.load(Path.of(config.model().path()), config.model());
             JsonlOutput output = JsonlOutput.open(out)) {
            PromptRecordEncoder encoder = new PromptRecordEncoder(policy);
            for (int from = 0, k = 0; from < records.size(); from += batchSize, k++) {
                List<PromptRecord> batch = records.subList(from, Math.min(records.size(), from + batchSize));
                List<EncodedPrompt> prompts = new ArrayList<>();
                for (PromptRecord r : batch) {
                    prompts.add(encoder.prompt(r));
                }
                GeneratedResponses result = policy.generate(prompts, samples, sampling.withSeed(sampling.seed() + k));
                for (int i = 0; i < batch.size(); i++) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (int s = 0; s < samples; s++) {
                        int row = i * samples + s;
                        Map<String, Object> response = new LinkedHashMap<>();
                        response.put("text", policy.decodeResponse(result.tokens()[row]));
                        response.put("response_ids", result.tokens()[row]);
                        response.put("logprobs", result.logProbs()[row]);
                        response.put("truncated", result.truncated()[row]);
                        rows.add(response);
                        responses++;
                        tokens += result.tokens()[row].length;
                    }
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("index", batch.get(i).index());
                    line.put("responses", rows);
                    output.write(line);
                }
            }
            output.commit();
        }
        return new Summary(records.size(), responses, tokens);
    }
}
