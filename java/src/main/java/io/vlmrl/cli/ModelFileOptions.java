package io.vlmrl.cli;

import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The options of the commands that run a model over a JSONL file ({@code score}, {@code generate}):
 * the model, the input and output files, the batch size, and {@code --set} / {@code --config} for
 * the keys that apply to a loaded model ({@code model.dtype}, {@code threads}, ...).
 */
final class ModelFileOptions {

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "the model (model.path): a Hugging Face Qwen2.5-VL / Qwen2-VL directory or a vlmrl checkpoint")
    String model;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "input JSONL: per line images and a prompt (prompt, messages or prompt_ids); see docs/qwen25vl.md")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output JSONL, one line per input record")
    Path out;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "8", description = "records per forward pass (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file of configuration keys")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override one configuration key, e.g. --set model.dtype=bfloat16 or --set threads=8 (repeatable)")
    List<String> overrides = new ArrayList<>();

    /** The configuration with {@code model.path} from {@code --model}. */
    RunConfig resolve() {
        for (String o : overrides) {
            if (o.startsWith("model.path=")) {
                throw new IllegalArgumentException("--model: also given as --set " + o + "; give it once");
            }
        }
        List<String> all = new ArrayList<>();
        all.add("model.path=" + model);
        all.addAll(overrides);
        return RunConfig.resolve(null, configFile, all);
    }
}
