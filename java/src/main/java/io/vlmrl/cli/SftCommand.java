package io.vlmrl.cli;

import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.sft.SftResult;
import io.vlmrl.train.TrainConfig;
import io.vlmrl.train.TrainPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code sft}: the supervised warm start alone; writes a model checkpoint. */
@Command(name = "sft", mixinStandardHelpOptions = true, description = "Supervised warm start; saves a checkpoint to --out.")
public final class SftCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, description = "checkpoint directory to write")
    Path out;

    @Option(names = "--config", description = "YAML file of configuration keys (model.*, task.*, sft.*, seed)")
    Path configFile;

    @Option(names = "--set", description = "override one configuration key, e.g. --set sft.steps=200 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        TrainConfig config = TrainConfig.resolve(null, configFile, overrides);
        org.bytedeco.pytorch.global.torch.set_num_threads(config.threads());
        WordTokenizer tokenizer = TrainPipeline.defaultTokenizer();
        VisionLanguageModel model = new VisionLanguageModel(config.modelConfig(tokenizer), config.seed());
        SftResult r = TrainPipeline.warmStart(model, tokenizer, out, config, true);
        System.out.printf("SFT: loss %.3f -> %.3f in %.0f s; checkpoint %s%n", r.initialLoss(), r.finalLoss(), r.seconds(), out);
        return 0;
    }
}
