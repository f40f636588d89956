package io.vlmrl.cli;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Split;
import io.vlmrl.eval.EvalResult;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.train.TrainConfig;
import io.vlmrl.train.TrainPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code eval}: greedy held-out accuracy of a checkpoint, as JSON. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Held-out accuracy of a checkpoint (JSON to --out).")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, description = "model checkpoint directory")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "JSON file to write")
    Path out;

    @Option(names = "--set", description = "configuration keys of the task, e.g. --set eval.size=500 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(checkpoint.resolve(Checkpoint.WEIGHTS_FILE))) {
            throw new IllegalArgumentException("--checkpoint: expected a directory with " + Checkpoint.WEIGHTS_FILE
                    + ", got '" + checkpoint + "'");
        }
        TrainConfig config = TrainConfig.resolve(null, null, overrides);
        org.bytedeco.pytorch.global.torch.set_num_threads(config.threads());
        Checkpoint.Loaded loaded = Checkpoint.load(checkpoint);
        TrainConfig task = config.with("model.image_size=" + loaded.config().imageSize());
        EvalResult r = TrainPipeline.evaluate(loaded.model(),
                loaded.tokenizer() != null ? loaded.tokenizer() : TrainPipeline.defaultTokenizer(),
                new BuiltinTask(task.taskConfig()).dataset(Split.HELD_OUT, config.evalSize()));
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        r.writeJson(out);
        System.out.printf("held-out accuracy %.3f on %d problems (%s)%n", r.accuracy(), r.problems(), out);
        return 0;
    }
}
