package io.vlmrl.cli;

import io.vlmrl.dist.LaunchEnvironment;
import io.vlmrl.run.RunConfig;
import io.vlmrl.run.TrainJob;
import io.vlmrl.store.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code train}: warm start (SFT, or --model) → RL → eval. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Warm start, RL with a preset, held-out evaluation before and after.",
        footer = "%nData parallel: --nproc N on one machine, or RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from a launcher"
                + " (README, \"Data-parallel training\").%nEvery key, its default and range: vlmrl config")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "ppo, grpo, dapo, acpo or apo (default: from --config, else acpo)")
    String preset;

    @Option(names = "--out", paramLabel = "DIR", description = "run directory (config.yaml, metrics.jsonl, curves.png, eval.json, checkpoints)")
    Path out;

    @Mixin
    ConfigOptions options;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the killed run in this directory (its config.yaml is used; --set still applies)")
    Path resume;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Mixin
    LaunchOptions launch;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        RunConfig config;
        Path runDir;
        Set<String> mayChange = Set.of();
        String advice;
        if (resume != null) {
            Path file = RunDirectory.at(resume).config();
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--resume: expected a run directory with config.yaml, got '" + resume + "'");
            }
            if (out != null && !out.equals(resume)) {
                throw new IllegalArgumentException("--out: must be omitted or equal to --resume, got '" + out + "'");
            }
            if (preset != null || options.configFile != null) {
                throw new IllegalArgumentException("--resume: continues the run with its own config.yaml; "
                        + "drop --preset and --config (--set still applies)");
            }
            config = RunConfig.resolve(null, file, options.allOverrides());
            runDir = resume;
            mayChange = options.overriddenKeys();
            advice = "config.yaml no longer says what the run was made with: restore it, or give the changed keys with --set";
        } else {
            if (out == null) throw new IllegalArgumentException("--out: a run directory is required");
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException("--out: expected a directory, got the file '" + out + "'");
            }
            config = options.resolve(preset);
            runDir = out;
            advice = "continue it with --resume " + out + " (--set still applies), or choose another --out";
        }
        var launched = launch.launchIfAsked(spec);
        if (launched.isPresent()) return launched.get();
        Map<String, Object> report = new TrainJob(config, runDir).allowChanges(mayChange, advice).showProgress(!quiet)
                .launch(LaunchEnvironment.fromSystem()).run();
        if (report.isEmpty()) return 0; // a rank other than 0: rank 0 reports
        System.out.printf("preset %s: held-out accuracy %.3f -> %.3f (%s)%n", config.preset(),
                report.get("accuracy_before"), report.get("accuracy_after"), RunDirectory.at(runDir).eval());
        return 0;
    }
}
