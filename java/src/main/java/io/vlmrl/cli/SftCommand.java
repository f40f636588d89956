package io.vlmrl.cli;

import io.vlmrl.dist.LaunchEnvironment;
import io.vlmrl.run.RunConfig;
import io.vlmrl.run.SftJob;
import io.vlmrl.sft.SftResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code sft}: the supervised warm start alone; writes a model directory. */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = "Supervised warm start; saves the model to --out (train --model loads it).",
        footer = "%nEvery key, its default and range: vlmrl config")
public final class SftCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "model directory to write")
    Path out;

    @Option(names = "--force", description = "replace the model already in --out")
    boolean force;

    @Mixin
    ConfigOptions options;

    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;

    @Mixin
    LaunchOptions launch;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        RunConfig config = options.resolve(null);
        SftJob.checkOutput(out, force);
        var launched = launch.launchIfAsked(spec);
        if (launched.isPresent()) return launched.get();
        LaunchEnvironment env = LaunchEnvironment.fromSystem();
        SftResult r = SftJob.run(config, out, force, !quiet, env);
        if (env.rank() != 0) return 0; // rank 0 reports
        System.out.printf("SFT: loss %.3f -> %.3f in %.0f s; model %s%n", r.initialLoss(), r.finalLoss(), r.seconds(), out);
        return 0;
    }
}
