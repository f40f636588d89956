package io.vlmrl.cli;

import io.vlmrl.run.Comparison;
import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code compare}: the same warm start, seed and budget for several presets; one plot of their
 * curves and a table (markdown and CSV) of final accuracy and steps to a target accuracy. The
 * orchestration is {@link Comparison}'s.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Run several presets from one warm start with the same seed and budget; plot and tabulate.",
        footer = "%nEvery key, its default and range: vlmrl config")
public final class CompareCommand implements Callable<Integer> {

    @Option(names = "--presets", required = true, split = ",", description = "comma-separated presets, e.g. grpo,dapo,acpo")
    List<String> presets;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory: seed-S/warmstart and seed-S/PRESET per seed, compare.png, compare.md, compare.csv")
    Path out;

    @Mixin
    ConfigOptions options;

    // The default warm start samples at ~0.37 and ACPO lifts that to ~0.5 in 500 steps, so 0.45
    // lies on the climb and separates presets by how fast they learn.
    @Option(names = "--target", defaultValue = "0.45",
            description = "sampled training accuracy whose first crossing (as a trailing mean over --window steps) is reported (default: ${DEFAULT-VALUE})")
    double target;

    @Option(names = "--window", defaultValue = "20",
            description = "steps in the trailing mean of the sampled accuracy compared with --target (default: ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--seeds", split = ",", paramLabel = "S", description = "seeds, e.g. 7,8,9: each gets its own warm start and a run of every preset; the tables give means and 95%% intervals (default: the configuration's seed)")
    List<Long> seeds;

    @Option(names = "--baseline", description = "preset the others are compared with, seed by seed (default: the first of --presets)")
    String baseline;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (!io.vlmrl.run.Presets.names().contains(presets.get(0))) {
            throw new IllegalArgumentException("--presets: expected names from " + io.vlmrl.run.Presets.names() + ", got '" + presets.get(0) + "'");
        }
        RunConfig shared = options.resolve(presets.get(0));
        List<Long> seedList = seeds == null || seeds.isEmpty() ? List.of(shared.seed()) : seeds;
        Comparison comparison = new Comparison(shared, presets, seedList, baseline == null ? presets.get(0) : baseline, out,
                target, window).showProgress(!quiet);
        comparison.run();
        System.out.print(Files.readString(out.resolve("compare.md")));
        return 0;
    }
}
