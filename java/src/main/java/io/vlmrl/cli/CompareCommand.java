package io.vlmrl.cli;

import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.train.ConfigSchema;
import io.vlmrl.train.CurvePlotter;
import io.vlmrl.train.MetricNames;
import io.vlmrl.train.MetricsLogger;
import io.vlmrl.train.TargetCrossing;
import io.vlmrl.train.TrainConfig;
import io.vlmrl.train.TrainPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code compare}: the same warm start, seed and budget for several presets; one plot of their
 * curves and a table (markdown and CSV) of final accuracy and steps to a target accuracy.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Run several presets from one warm start with the same seed and budget; plot and tabulate.")
public final class CompareCommand implements Callable<Integer> {

    @Option(names = "--presets", required = true, split = ",", description = "comma-separated presets, e.g. grpo,dapo,acpo")
    List<String> presets;

    @Option(names = "--out", required = true, description = "directory: one run per preset, compare.png, compare.md, compare.csv")
    Path out;

    @Option(names = "--config", description = "YAML file of configuration keys shared by every run")
    Path configFile;

    @Option(names = "--set", description = "override one shared configuration key (repeatable)")
    List<String> overrides = new ArrayList<>();

    // The default warm start samples at ~0.37 and ACPO lifts that to ~0.5 in 500 steps, so 0.45
    // lies on the climb and separates presets by how fast they learn.
    @Option(names = "--target", defaultValue = "0.45",
            description = "sampled training accuracy whose first crossing (as a trailing mean over --window steps) is reported (default: ${DEFAULT-VALUE})")
    double target;

    @Option(names = "--window", defaultValue = "20",
            description = "steps in the trailing mean of the sampled accuracy compared with --target (default: ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        for (String p : presets) {
            if (!ConfigSchema.PRESETS.contains(p)) {
                throw new IllegalArgumentException("--presets: expected names from " + ConfigSchema.PRESETS + ", got '" + p + "'");
            }
        }
        if (!(target > 0 && target <= 1)) throw new IllegalArgumentException("--target: expected a number in (0, 1], got " + target);
        if (window < 1) throw new IllegalArgumentException("--window: expected a number of steps >= 1, got " + window);
        Files.createDirectories(out);

        // One warm start shared by every preset, so differences come from RL alone.
        TrainConfig shared = TrainConfig.resolve(presets.get(0), configFile, overrides);
        Path warm = out.resolve("warmstart");
        boolean warmStartExists = Files.exists(warm.resolve(io.vlmrl.model.Checkpoint.WEIGHTS_FILE));
        if (warmStartExists && !Files.exists(warm.resolve(TrainPipeline.CONFIG_FILE))) {
            throw new IllegalArgumentException("--out: " + warm + " holds a warm start of unknown settings (an earlier "
                    + "version's); delete it or choose another --out");
        }
        TrainPipeline.checkSameSettings(warm, shared, CompareCommand::shapesTheWarmStart, "delete it or choose another --out");
        if (!warmStartExists) {
            Files.createDirectories(warm);
            shared.writeYaml(warm.resolve(TrainPipeline.CONFIG_FILE));
            org.bytedeco.pytorch.global.torch.set_num_threads(shared.threads());
            WordTokenizer tokenizer = TrainPipeline.defaultTokenizer();
            VisionLanguageModel model = new VisionLanguageModel(shared.modelConfig(tokenizer), shared.seed());
            TrainPipeline.warmStart(model, tokenizer, warm, shared, !quiet);
            model.close();
        }

        Map<String, List<Map<String, Object>>> curves = new LinkedHashMap<>();
        List<String[]> rows = new ArrayList<>();
        for (String preset : presets) {
            TrainConfig config = TrainConfig.resolve(preset, configFile, overrides);
            Path runDir = out.resolve(preset);
            TrainPipeline.checkSameSettings(runDir, config, key -> true, "delete it or choose another --out");
            Map<String, Object> report = new TrainPipeline(config, runDir, warm).showProgress(!quiet).run();
            List<Map<String, Object>> records = MetricsLogger.read(runDir.resolve("metrics.jsonl"));
            curves.put(preset, records);
            double seconds = records.stream().mapToDouble(r -> ((Number) r.get(MetricNames.STEP_TIME)).doubleValue()).sum();
            rows.add(new String[] {preset, fmt(report.get("accuracy_before")), fmt(report.get("accuracy_after")),
                    stepsToTarget(records), String.format(Locale.ROOT, "%.0f", seconds)});
        }
        CurvePlotter.plotRuns(curves, out.resolve("compare.png"));
        writeTables(rows);
        System.out.print(Files.readString(out.resolve("compare.md")));
        return 0;
    }

    /** The keys the shared warm start depends on (the RL keys may differ between presets). */
    private static boolean shapesTheWarmStart(String key) {
        return key.equals("seed") || key.startsWith("task.") || key.startsWith("model.") || key.startsWith("sft.");
    }

    private String stepsToTarget(List<Map<String, Object>> records) {
        List<Double> accuracy = records.stream().map(r -> ((Number) r.get(MetricNames.ACCURACY)).doubleValue()).toList();
        var steps = TargetCrossing.stepsToReach(accuracy, target, window);
        return steps.isPresent() ? Integer.toString(steps.getAsInt()) : "not reached";
    }

    private void writeTables(List<String[]> rows) throws java.io.IOException {
        String[] header = {"preset", "accuracy_before", "accuracy_after",
                "steps_to_sampled_accuracy_" + target + "_mean" + window, "rl_seconds"};
        StringBuilder csv = new StringBuilder(String.join(",", header)).append('\n');
        StringBuilder md = new StringBuilder("| " + String.join(" | ", header) + " |\n|");
        for (int i = 0; i < header.length; i++) md.append(" --- |");
        md.append('\n');
        for (String[] r : rows) {
            csv.append(String.join(",", r)).append('\n');
            md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        Files.writeString(out.resolve("compare.csv"), csv, StandardCharsets.UTF_8);
        Files.writeString(out.resolve("compare.md"), md, StandardCharsets.UTF_8);
    }

    private static String fmt(Object accuracy) {
        return String.format(Locale.ROOT, "%.3f", ((Number) accuracy).doubleValue());
    }
}
