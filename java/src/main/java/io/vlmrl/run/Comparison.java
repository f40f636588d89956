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
 * What {@code vlmrl compare} does: several presets trained from one warm start with the same seed
 * and budget, so that their differences come from RL alone; one plot of their curves and a table
 * (markdown and CSV) of held-out accuracy and of the steps to a target sampled accuracy.
 *
 * <p>The warm start is {@code model.path} when the configuration sets it, else a fresh built-in
 * model trained by SFT once, into DIR/warmstart. Each preset's run lives in DIR/&lt;preset&gt;.
 */
public final class Comparison {

    /** One preset's outcome. */
    public record Row(String preset, double accuracyBefore, double accuracyAfter, OptionalInt stepsToTarget, double rlSeconds) {}

    private final RunConfig shared;
    private final List<String> presets;
    private final Path out;
    private final double target;
    private final int window;
    private boolean showProgress = true;

    /**
     * @param shared  the configuration every run starts from (its preset is replaced by each of {@code presets})
     * @param target  sampled training accuracy whose first crossing is reported
     * @param window  steps of the trailing mean compared with {@code target}
     */
    public Comparison(RunConfig shared, List<String> presets, Path out, double target, int window) {
        if (presets.isEmpty()) throw new IllegalArgumentException("--presets: expected at least one preset, got none");
        for (String p : presets) Presets.values(p);
        if (!(target > 0 && target <= 1)) throw new IllegalArgumentException("--target: expected a number in (0, 1], got " + target);
        if (window < 1) throw new IllegalArgumentException("--window: expected a number of steps >= 1, got " + window);
        this.shared = shared;
        this.presets = List.copyOf(presets);
        this.out = out;
        this.target = target;
        this.window = window;
    }

    public Comparison showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /** The configuration of one preset's run. */
    public RunConfig configOf(String preset) {
        RunConfig c = shared.with("preset=" + preset);
        if (shared.model().loaded()) return c;
        // The runs load the shared warm start, whose own configuration decides the model's sizes.
        return c.withoutChanges(ModelConfig::sizesBuiltinModel).with("model.path=" + warmStart());
    }

    private Path warmStart() {
        return out.resolve(RunDirectory.WARM_START_DIR).toAbsolutePath();
    }

    /** Refuses an output directory whose warm start or preset runs were made with other settings. */
    public void checkOutput() {
        if (!shared.model().loaded()) {
            if (Policies.holdsModel(warmStart()) && !Files.exists(warmStart().resolve(RunDirectory.CONFIG_FILE))) {
                throw new IllegalArgumentException("--out: " + warmStart() + " holds a warm start of unknown settings; "
                        + "delete it or choose another --out");
            }
            Path file = warmStart().resolve(RunDirectory.CONFIG_FILE);
            if (Files.isRegularFile(file)) {
                List<String> differences = RunConfig.load(file).differences(shared, Comparison::shapesTheWarmStart);
                if (!differences.isEmpty()) {
                    throw new IllegalArgumentException("--out: " + warmStart() + " holds a warm start made with other settings ("
                            + String.join(", ", differences) + "); delete it or choose another --out");
                }
            }
        }
        for (String preset : presets) {
            RunRecord.checkContinues(out.resolve(preset), configOf(preset), java.util.Set.of(), "delete it or choose another --out");
        }
    }

    /** Trains every preset (continuing runs an earlier, killed comparison left) and writes the plot and tables. */
    public List<Row> run() throws IOException {
        checkOutput();
        Files.createDirectories(out);
        if (!shared.model().loaded() && !Policies.holdsModel(warmStart())) {
            SftJob.run(shared, warmStart(), false, showProgress);
        }
        Map<String, List<Map<String, Object>>> curves = new LinkedHashMap<>();
        List<Row> rows = new ArrayList<>();
        for (String preset : presets) {
            Path runDir = out.resolve(preset);
            Map<String, Object> report = new TrainJob(configOf(preset), runDir).showProgress(showProgress).run();
            List<Map<String, Object>> records = MetricsLogger.read(RunDirectory.at(runDir).metrics());
            curves.put(preset, records);
            double seconds = records.stream().mapToDouble(r -> ((Number) r.get(MetricNames.STEP_TIME)).doubleValue()).sum();
            List<Double> accuracy = records.stream().map(r -> ((Number) r.get(MetricNames.ACCURACY)).doubleValue()).toList();
            rows.add(new Row(preset, ((Number) report.get("accuracy_before")).doubleValue(),
                    ((Number) report.get("accuracy_after")).doubleValue(),
                    TargetCrossing.stepsToReach(accuracy, target, window), seconds));
        }
        CurvePlotter.plotRuns(curves, out.resolve("compare.png"));
        writeTables(rows);
        return rows;
    }

    /** The keys the shared warm start depends on (the RL keys may differ between presets). */
    static boolean shapesTheWarmStart(String key) {
        return key.equals("seed") || key.startsWith("task.") || key.startsWith("model.") || key.startsWith("sft.")
                || key.startsWith("data.");
    }

    private void writeTables(List<Row> rows) throws IOException {
        String[] header = {"preset", "accuracy_before", "accuracy_after",
                "steps_to_sampled_accuracy_" + target + "_mean" + window, "rl_seconds"};
        StringBuilder csv = new StringBuilder(String.join(",", header)).append('\n');
        StringBuilder md = new StringBuilder("| " + String.join(" | ", header) + " |\n|");
        for (int i = 0; i < header.length; i++) md.append(" --- |");
        md.append('\n');
        for (Row r : rows) {
            String[] cells = {r.preset(), fmt(r.accuracyBefore()), fmt(r.accuracyAfter()),
                    r.stepsToTarget().isPresent() ? Integer.toString(r.stepsToTarget().getAsInt()) : "not reached",
                    String.format(Locale.ROOT, "%.0f", r.rlSeconds())};
            csv.append(String.join(",", cells)).append('\n');
            md.append("| ").append(String.join(" | ", cells)).append(" |\n");
        }
        Files.writeString(out.resolve("compare.csv"), csv, StandardCharsets.UTF_8);
        Files.writeString(out.resolve("compare.md"), md, StandardCharsets.UTF_8);
    }

    private static String fmt(double accuracy) {
        return String.format(Locale.ROOT, "%.3f", accuracy);
    }
}
