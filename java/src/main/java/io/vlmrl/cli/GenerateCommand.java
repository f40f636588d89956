package io.vlmrl.cli;

import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.run.GenerateJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code generate}: responses of a model to the prompts of a JSONL file. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Responses (text and token ids) of --model to each record's prompt (JSONL in, JSONL out).",
        footer = "%nInput and output formats: docs/qwen25vl.md")
public final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelFileOptions options;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "256",
            description = "longest response in tokens, the end token included (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--greedy", description = "take the most likely token at each step (no sampling options then)")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature (default 1)")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass, 1 = off (default 1)")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "sample among the K most likely tokens, 0 = off (default 0)")
    Integer topK;

    @Option(names = "--seed", paramLabel = "S", description = "sampling seed (default 0)")
    Long seed;

    @Option(names = "--samples", paramLabel = "G", defaultValue = "1", description = "responses per prompt (default: ${DEFAULT-VALUE})")
    int samples;

    @Override
    public Integer call() throws Exception {
        if (greedy && (temperature != null || topP != null || topK != null || seed != null)) {
            throw new IllegalArgumentException("--greedy: takes no --temperature, --top-p, --top-k or --seed; drop one of them");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens: expected >= 1, got " + maxNewTokens);
        }
        SamplingConfig sampling;
        try {
            sampling = greedy ? SamplingConfig.greedy(maxNewTokens)
                    : new SamplingConfig(temperature == null ? 1.0 : temperature, topP == null ? 1.0 : topP,
                    topK == null ? 0 : topK, maxNewTokens, false, seed == null ? 0L : seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sampling options: " + e.getMessage(), e);
        }
        GenerateJob.Summary s = GenerateJob.run(options.resolve(), options.data, options.out, sampling, samples, options.batchSize);
        System.out.printf("generated %d responses to %d prompts, %d tokens (%s)%n", s.responses(), s.records(), s.tokens(),
                options.out);
        return 0;
    }
}
