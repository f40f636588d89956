package io.vlmrl.cli;

import io.vlmrl.train.TrainConfig;
import io.vlmrl.train.TrainPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code train}: SFT warm start (unless --init) → RL → eval. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Warm start, RL with a preset, held-out evaluation before and after.")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "ppo, grpo, dapo, acpo or apo (default: from --config, else acpo)")
    String preset;

    @Option(names = "--out", description = "run directory (config.yaml, metrics.jsonl, curves.png, eval.json)")
    Path out;

    @Option(names = "--config", description = "YAML file of configuration keys")
    Path configFile;

    @Option(names = "--set", description = "override one configuration key, e.g. --set optim.lr=0.001 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--init", description = "start RL from this model checkpoint directory instead of the SFT warm start")
    Path init;

    @Option(names = "--resume", description = "continue the killed run in this directory (its config.yaml is used)")
    Path resume;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        TrainConfig config;
        Path runDir;
        if (resume != null) {
            if (!Files.isRegularFile(resume.resolve(TrainPipeline.CONFIG_FILE))) {
                throw new IllegalArgumentException("--resume: expected a run directory with config.yaml, got '" + resume + "'");
            }
            if (out != null && !out.equals(resume)) {
                throw new IllegalArgumentException("--out: must be omitted or equal to --resume, got '" + out + "'");
            }
            config = TrainConfig.load(resume.resolve(TrainPipeline.CONFIG_FILE)).with(overrides.toArray(new String[0]));
            runDir = resume;
        } else {
            if (out == null) throw new IllegalArgumentException("--out: a run directory is required");
            if (init != null && !Files.isDirectory(init)) {
                throw new IllegalArgumentException("--init: expected a checkpoint directory, got '" + init + "'");
            }
            if (configFile != null && !Files.isRegularFile(configFile)) {
                throw new IllegalArgumentException("--config: no such file '" + configFile + "'");
            }
            config = TrainConfig.resolve(preset, configFile, overrides);
            TrainPipeline.checkSameSettings(out, config, key -> true,
                    "continue it with --resume " + out + " (--set still applies), or choose another --out");
            runDir = out;
        }
        Map<String, Object> report = new TrainPipeline(config, runDir, init).showProgress(!quiet).run();
        System.out.printf("preset %s: held-out accuracy %.3f -> %.3f (%s)%n", config.preset(),
                report.get("accuracy_before"), report.get("accuracy_after"), runDir.resolve(TrainPipeline.EVAL_FILE));
        return 0;
    }
}
