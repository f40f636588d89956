package io.vlmrl.run;

import io.vlmrl.model.ModelConfig;
import io.vlmrl.rl.MetricNames;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.store.RunDirectory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What {@code vlmrl compare} does: several presets trained from the same warm start with the same
 * seed and budget, so that their differences come from RL alone — over one seed or several. For
 * each seed a warm start is made once (DIR/seed-S/warmstart, SFT of a fresh built-in model with that
 * seed, or {@code model.path} when set) and every preset's run starts from it (DIR/seed-S/PRESET).
 * The tables (compare.md, compare.csv) give per preset the mean and 95% interval over the seeds of
 * held-out accuracy, of its gain over the warm start and of the steps to a target sampled accuracy,
 * and the paired difference of the accuracy against a baseline preset (same seed, same warm start);
 * compare.png draws the mean curves with their 95% band.
 */
public final class Comparison {

    /** One preset's run with one seed. */
    public record Run(String preset, long seed, double accuracyBefore, double accuracyAfter, OptionalInt stepsToTarget,
                      double rlSeconds, List<Map<String, Object>> records) {}

    /** One preset over the seeds. */
    public record Row(String preset, Intervals.Interval accuracyBefore, Intervals.Interval accuracyAfter,
                      Intervals.Interval gain, Intervals.Interval differenceToBaseline, Intervals.Interval stepsToTarget,
                      int reachedTarget, double rlSeconds) {}

    private final RunConfig shared;
    private final List<String> presets;
    private final List<Long> seeds;
    private final String baseline;
    private final Path out;
    private final double target;
    private final int window;
    private boolean showProgress = true;

    /**
     * @param shared   the configuration every run starts from (its preset and seed are replaced)
     * @param seeds    the seeds; each gets its own warm start
     * @param baseline the preset the others are compared with, seed by seed
     * @param target   sampled training accuracy whose first crossing is reported
     * @param window   steps of the trailing mean compared with {@code target}
     */
    public Comparison(RunConfig shared, List<String> presets, List<Long> seeds, String baseline, Path out, double target,
                      int window) {
        if (presets.isEmpty()) throw new IllegalArgumentException("--presets: expected at least one preset, got none");
        for (String p : presets) {
            if (!Presets.names().contains(p)) {
                throw new IllegalArgumentException("--presets: expected names from " + Presets.names() + ", got '" + p + "'");
            }
        }
        if (seeds.isEmpty()) throw new IllegalArgumentException("--seeds: expected at least one seed, got none");
        if (seeds.stream().distinct().count() != seeds.size()) {
            throw new IllegalArgumentException("--seeds: expected distinct seeds, got " + seeds);
        }
        if (!presets.contains(baseline)) {
            throw new IllegalArgumentException("--baseline: expected one of the compared presets " + presets + ", got '" + baseline + "'");
        }
        if (!(target > 0 && target <= 1)) throw new IllegalArgumentException("--target: expected a number in (0, 1], got " + target);
        if (window < 1) throw new IllegalArgumentException("--window: expected a number of steps >= 1, got " + window);
        this.shared = shared;
        this.presets = List.copyOf(presets);
        this.seeds = List.copyOf(seeds);
        this.baseline = baseline;
        this.out = out;
        this.target = target;
        this.window = window;
    }

    public Comparison showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    private RunConfig seeded(long seed) {
        return shared.with("seed=" + seed);
    }

    private Path seedDir(long seed) {
        return out.resolve("seed-" + seed);
    }

    private Path warmStart(long seed) {
        return seedDir(seed).resolve(RunDirectory.WARM_START_DIR).toAbsolutePath();
    }

    /** The configuration of one preset's run with one seed. */
    public RunConfig configOf(String preset, long seed) {
        RunConfig c = seeded(seed).with("preset=" + preset);
        if (shared.model().loaded()) return c;
        // The runs load the seed's warm start, whose own configuration decides the model's sizes.
        return c.withoutChanges(ModelConfig::sizesBuiltinModel).with("model.path=" + warmStart(seed));
    }

    /** Refuses an output directory whose warm starts or runs were made with other settings. */
    public void checkOutput() {
        for (long seed : seeds) {
            if (!shared.model().loaded()) {
                Path warm = warmStart(seed);
                if (Policies.holdsModel(warm) && !Files.exists(warm.resolve(RunDirectory.CONFIG_FILE))) {
                    throw new IllegalArgumentException("--out: " + warm + " holds a warm start of unknown settings; "
                            + "delete it or choose another --out");
                }
                Path file = warm.resolve(RunDirectory.CONFIG_FILE);
                if (Files.isRegularFile(file)) {
                    List<String> differences = RunConfig.load(file).differences(seeded(seed), Comparison::shapesTheWarmStart);
                    if (!differences.isEmpty()) {
                        throw new IllegalArgumentException("--out: " + warm + " holds a warm start made with other settings ("
                                + String.join(", ", differences) + "); delete it or choose another --out");
                    }
                }
            }
            for (String preset : presets) {
                RunRecord.checkContinues(seedDir(seed).resolve(preset), configOf(preset, seed), java.util.Set.of(),
                        "delete it or choose another --out");
            }
        }
    }

    /** Trains every preset with every seed (continuing what a killed comparison left) and writes the plot and tables. */
    public List<Row> run() throws IOException {
        checkOutput();
        Files.createDirectories(out);
        List<Run> runs = new ArrayList<>();
        for (long seed : seeds) {
            if (!shared.model().loaded() && !Policies.holdsModel(warmStart(seed))) {
                SftJob.run(seeded(seed), warmStart(seed), false, showProgress);
            }
            for (String preset : presets) {
                Path runDir = seedDir(seed).resolve(preset);
                Map<String, Object> report = new TrainJob(configOf(preset, seed), runDir).showProgress(showProgress).run();
                List<Map<String, Object>> records = MetricsLogger.read(RunDirectory.at(runDir).metrics());
                double seconds = records.stream().mapToDouble(r -> ((Number) r.get(MetricNames.STEP_TIME)).doubleValue()).sum();
                List<Double> accuracy = records.stream().map(r -> ((Number) r.get(MetricNames.ACCURACY)).doubleValue()).toList();
                runs.add(new Run(preset, seed, ((Number) report.get("accuracy_before")).doubleValue(),
                        ((Number) report.get("accuracy_after")).doubleValue(),
                        TargetCrossing.stepsToReach(accuracy, target, window), seconds, records));
            }
        }
        List<Row> rows = summarize(runs);
        Map<String, List<List<Map<String, Object>>>> curves = new LinkedHashMap<>();
        for (Run r : runs) curves.computeIfAbsent(r.preset(), p -> new ArrayList<>()).add(r.records());
        CurvePlotter.plotMeans(curves, out.resolve("compare.png"));
        writeTables(runs, rows);
        return rows;
    }

    /** Per preset, the intervals over the seeds (and the paired difference to the baseline). */
    List<Row> summarize(List<Run> runs) {
        List<Row> rows = new ArrayList<>();
        for (String preset : presets) {
            List<Run> mine = runs.stream().filter(r -> r.preset().equals(preset)).toList();
            List<Double> before = new ArrayList<>(), after = new ArrayList<>(), gain = new ArrayList<>(),
                    difference = new ArrayList<>(), steps = new ArrayList<>();
            double seconds = 0;
            for (Run r : mine) {
                before.add(r.accuracyBefore());
                after.add(r.accuracyAfter());
                gain.add(r.accuracyAfter() - r.accuracyBefore());
                Run base = runs.stream().filter(b -> b.preset().equals(baseline) && b.seed() == r.seed()).findFirst().orElseThrow();
                difference.add(r.accuracyAfter() - base.accuracyAfter());
                r.stepsToTarget().ifPresent(s -> steps.add((double) s));
                seconds += r.rlSeconds();
            }
            rows.add(new Row(preset, Intervals.of(before), Intervals.of(after), Intervals.of(gain), Intervals.of(difference),
                    steps.isEmpty() ? null : Intervals.of(steps), steps.size(), seconds / mine.size()));
        }
        return rows;
    }

    /** The keys a warm start depends on (the RL keys may differ between presets). */
    static boolean shapesTheWarmStart(String key) {
        return key.equals("seed") || key.startsWith("task.") || key.startsWith("model.") || key.startsWith("sft.")
                || key.startsWith("data.");
    }

    private void writeTables(List<Run> runs, List<Row> rows) throws IOException {
        String steps = "steps to sampled accuracy " + target + " (" + window + "-step mean)";
        String[] header = {"preset", "accuracy_before", "accuracy_after", "gain", "difference to " + baseline, steps,
                "rl_seconds"};
        StringBuilder md = new StringBuilder("Mean and 95% interval over seeds " + seeds + " (paired by seed for the difference).\n\n| "
                + String.join(" | ", header) + " |\n|");
        for (int i = 0; i < header.length; i++) md.append(" --- |");
        md.append('\n');
        for (Row r : rows) {
            String reached = r.stepsToTarget() == null ? "not reached"
                    : r.stepsToTarget() + (r.reachedTarget() < seeds.size() ? " (" + r.reachedTarget() + " of " + seeds.size() + " seeds)" : "");
            md.append("| ").append(String.join(" | ", r.preset(), r.accuracyBefore().toString(), r.accuracyAfter().toString(),
                    r.gain().toString(), r.preset().equals(baseline) ? "—" : r.differenceToBaseline().toString(), reached,
                    String.format(Locale.ROOT, "%.0f", r.rlSeconds()))).append(" |\n");
        }
        StringBuilder csv = new StringBuilder("preset,seed,accuracy_before,accuracy_after,steps_to_target,rl_seconds\n");
        for (Run r : runs) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%.4f,%.4f,%s,%.1f%n", r.preset(), r.seed(), r.accuracyBefore(),
                    r.accuracyAfter(), r.stepsToTarget().isPresent() ? Integer.toString(r.stepsToTarget().getAsInt()) : "",
                    r.rlSeconds()));
        }
        Files.writeString(out.resolve("compare.md"), md, StandardCharsets.UTF_8);
        Files.writeString(out.resolve("compare.csv"), csv, StandardCharsets.UTF_8);
    }
}
