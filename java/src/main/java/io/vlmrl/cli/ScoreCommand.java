package io.vlmrl.cli;

import io.vlmrl.run.ScoreJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code score}: per-token log-probs and entropies of given responses under a model. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Per-token log-probs and entropy of each record's response under --model (JSONL in, JSONL out).",
        footer = "%nInput and output formats: docs/qwen25vl.md")
public final class ScoreCommand implements Callable<Integer> {

    @Mixin
    ModelFileOptions options;

    @Override
    public Integer call() throws Exception {
        ScoreJob.Summary s = ScoreJob.run(options.resolve(), options.data, options.out, options.batchSize);
        System.out.printf("scored %d records, %d tokens, mean log-prob %.4f per token (%s)%n", s.records(), s.tokens(),
                s.tokens() == 0 ? 0.0 : s.sumLogprob() / s.tokens(), options.out);
        return 0;
    }
}
