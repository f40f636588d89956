package io.vlmrl.cli;

import io.vlmrl.eval.EvalResult;
import io.vlmrl.run.EvalJob;
import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code eval}: greedy held-out accuracy of a model, as JSON. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Held-out accuracy of a model (--model; JSON to --out), on the built-in task or --eval-data.",
        footer = "%nEvery key, its default and range: vlmrl config")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "JSON file to write")
    Path out;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        if (Files.isDirectory(out)) throw new IllegalArgumentException("--out: expected a JSON file, got the directory '" + out + "'");
        RunConfig config = options.resolve(null);
        EvalResult r = EvalJob.run(config, out);
        System.out.printf("held-out accuracy %.3f on %d problems (%s)%n", r.accuracy(), r.problems(), out);
        return 0;
    }
}
