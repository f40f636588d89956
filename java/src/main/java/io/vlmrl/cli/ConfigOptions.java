package io.vlmrl.cli;

import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The options every command shares to build its {@link RunConfig}: a YAML file, {@code --set}
 * overrides, and shorthands for the keys users set most ({@code --model} is
 * {@code --set model.path=...}, {@code --data} is {@code data.train}, {@code --eval-data} is
 * {@code data.eval}).
 */
final class ConfigOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML file of configuration keys ('vlmrl config' lists them)")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one configuration key, e.g. --set optim.lr=1e-5 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--model", paramLabel = "DIR", description = "the model to start from (model.path): a vlmrl checkpoint or a Hugging Face Qwen2.5-VL directory")
    String model;

    @Option(names = "--data", paramLabel = "FILE", description = "training set, a JSONL file (data.train)")
    String data;

    @Option(names = "--eval-data", paramLabel = "FILE", description = "held-out set, a JSONL file (data.eval)")
    String evalData;

    /** The {@code --set} overrides, with the shorthands first. */
    List<String> allOverrides() {
        List<String> all = new ArrayList<>();
        shorthand(all, "--model", "model.path", model);
        shorthand(all, "--data", "data.train", data);
        shorthand(all, "--eval-data", "data.eval", evalData);
        all.addAll(overrides);
        return all;
    }

    private void shorthand(List<String> all, String option, String key, String value) {
        if (value == null) return;
        for (String o : overrides) {
            if (o.startsWith(key + "=")) {
                throw new IllegalArgumentException(option + ": also given as --set " + o + "; give it once");
            }
        }
        all.add(key + "=" + value);
    }

    /** The keys given with {@code --set} or a shorthand. */
    java.util.Set<String> overriddenKeys() {
        java.util.Set<String> keys = new java.util.LinkedHashSet<>();
        for (String o : allOverrides()) {
            int eq = o.indexOf('=');
            if (eq > 0) keys.add(o.substring(0, eq).trim());
        }
        return keys;
    }

    /** The resolved configuration; {@code preset} null takes it from the file or the default. */
    RunConfig resolve(String preset) {
        return RunConfig.resolve(preset, configFile, allOverrides());
    }
}
