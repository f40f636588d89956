package io.vlmrl.run;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Setting;
import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.DataConfig;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.dist.DistConfig;
import io.vlmrl.eval.EvalConfig;
import io.vlmrl.kernels.KernelsConfig;
import io.vlmrl.loss.LossConfig;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.ModelConfig;
import io.vlmrl.model.WordTokenizer;
import io.vlmrl.optim.OptimConfig;
import io.vlmrl.reward.RewardConfig;
import io.vlmrl.rl.CurriculumConfig;
import io.vlmrl.rl.ReuseConfig;
import io.vlmrl.rl.RlConfig;
import io.vlmrl.rl.RolloutConfig;
import io.vlmrl.sft.SftConfig;
import io.vlmrl.store.CheckpointConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The whole configuration of a run: its preset, seed, number of RL steps and threads, and one
 * section per stage. Each section is the record its stage reads ({@link LossConfig} for the
 * policy loss, {@link RolloutConfig} for sampling, ...), so a setting goes from the command line
 * to the code that uses it under one name: {@code --set loss.eps_low=0.1} is
 * {@code LossConfig.epsLow()}.
 *
 * <h2>Resolution</h2>
 * Later wins: the key defaults (the {@code ppo} preset's), the preset's overrides
 * ({@link Presets}), a YAML file, then {@code --set key=value}. Every value and every rule that
 * ties keys together is checked here, before any work starts; the errors name the key, the
 * expected and the actual value. Build instances with {@link #resolve}, {@link #ofPreset},
 * {@link #load} or {@link #with}, which keep the preset and the values consistent.
 *
 * <h2>The preset rule</h2>
 * A run's config.yaml records its preset and only the keys whose values differ from that preset
 * ({@link #writeYaml}). Reading such a file with another preset ({@code train --preset acpo
 * --config <a grpo run>/config.yaml}, or {@code compare --presets grpo,dapo,acpo --config ...})
 * therefore applies the run's own changes on top of the chosen preset: what is trained is always
 * what the label says, plus the changes the file lists.
 */
public record RunConfig(
        @Key(def = "acpo", registry = Presets.class, help = "the algorithm preset the other keys start from: ppo, grpo, dapo, acpo, apo, or an ablation (acpo-no-aaac, acpo-no-gate, acpo-no-reuse, apo-no-dads, apo-no-stcr)")
        String preset,
        @Key(def = "7", min = 0, max = Integer.MAX_VALUE, help = "seed of every random draw (model init, SFT and RL)")
        long seed,
        @Key(def = "500", min = 0, max = 1_000_000, help = "RL steps")
        int steps,
        @Key(def = "2", min = 1, max = 256, help = "LibTorch intra-op threads")
        int threads,
        DataConfig data,
        TaskConfig task,
        ModelConfig model,
        RolloutConfig rollout,
        RewardConfig reward,
        LossConfig loss,
        CurriculumConfig curriculum,
        ReuseConfig reuse,
        OptimConfig optim,
        SftConfig sft,
        EvalConfig eval,
        CheckpointConfig checkpoint,
        KernelsConfig kernels,
        DistConfig dist) {

    private static final Schema<RunConfig> SCHEMA = Schema.of(RunConfig.class);

    public RunConfig {
        // The rules between the RL sections (group size and gate, KL and DADS, ...).
        new RlConfig(seed, steps, rollout, reward, loss, curriculum, reuse, optim, checkpoint, kernels);
        if (!model.loaded()) {
            // The sizes of a fresh built-in model must fit together (heads divide the width, ...).
            try {
                BuiltinPolicy.vlmConfig(model, WordTokenizer.fromWords(BuiltinTask.vocabulary(task.types())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("config keys 'model.*': " + e.getMessage(), e);
            }
        }
    }


    /** Every key of a run. */
    public static Schema<RunConfig> schema() {
        return SCHEMA;
    }

    /** The defaults with preset {@code preset} applied. */
    public static RunConfig ofPreset(String preset) {
        return resolve(preset, null, List.of());
    }

    /**
     * Resolves a run's configuration.
     *
     * @param preset    preset name, or null to take it from {@code --set preset=}, the file or the default
     * @param yamlFile  a YAML file of (nested or dotted) keys, or null
     * @param overrides {@code key=value} strings with dotted keys
     * @throws IllegalArgumentException naming the first bad key, value or combination
     */
    public static RunConfig resolve(String preset, Path yamlFile, List<String> overrides) {
        Map<String, Object> fromFile = yamlFile == null ? Map.of() : ConfigFiles.read(yamlFile, SCHEMA);
        Map<String, Object> fromSet = parseOverrides(overrides);
        String chosen = preset != null ? preset
                : fromSet.containsKey("preset") ? fromSet.get("preset").toString()
                : fromFile.containsKey("preset") ? fromFile.get("preset").toString()
                : (String) SCHEMA.setting("preset").defaultValue();
        Map<String, Object> changes = new LinkedHashMap<>(fromFile);
        changes.putAll(fromSet);
        changes.remove("preset");
        return build(chosen, changes);
    }

    /** Reads a configuration written by {@link #writeYaml} (or any YAML of known keys). */
    public static RunConfig load(Path yamlFile) {
        return resolve(null, yamlFile, List.of());
    }

    /**
     * This configuration with {@code key=value} overrides on top. Overriding {@code preset} keeps
     * this configuration's own changes and applies them to the new preset.
     */
    public RunConfig with(String... overrides) {
        Map<String, Object> set = parseOverrides(List.of(overrides));
        String chosen = set.containsKey("preset") ? set.remove("preset").toString() : preset;
        Map<String, Object> changes = new LinkedHashMap<>(changes());
        changes.putAll(set);
        return build(chosen, changes);
    }

    /** This configuration with the keys accepted by {@code keys} set back to the preset's values. */
    public RunConfig withoutChanges(Predicate<String> keys) {
        Map<String, Object> changes = new LinkedHashMap<>(changes());
        changes.keySet().removeIf(keys);
        return build(preset, changes);
    }

    private static RunConfig build(String preset, Map<String, Object> changes) {
        Map<String, Object> values = SCHEMA.defaultValues();
        values.put("preset", SCHEMA.setting("preset").coerce(preset));
        Presets.values(preset).forEach((k, raw) -> values.put(k, SCHEMA.setting(k).coerce(raw)));
        changes.forEach((k, raw) -> values.put(k, SCHEMA.setting(k).coerce(raw)));
        RunConfig config = SCHEMA.build(values);
        config.checkChanges();
        return config;
    }

    /** Rules about keys that a run sets but that would not apply to it. */
    private void checkChanges() {
        Map<String, Object> changes = changes();
        if (model.loaded()) {
            for (String key : changes.keySet()) {
                if (ModelConfig.sizesBuiltinModel(key)) {
                    throw new IllegalArgumentException("config key '" + key + "': sizes a fresh built-in model, but model.path ('"
                            + model.path() + "') loads a model whose own configuration decides; drop one of them");
                }
            }
        }
        if (data.userData()) {
            for (String key : changes.keySet()) {
                if (key.startsWith("task.")) {
                    throw new IllegalArgumentException("config key '" + key + "': configures the built-in task, but data.train ('"
                            + data.train() + "') trains on a user's data; drop one of them");
                }
            }
        }
    }

    /** Every value by dotted key, typed. */
    public Map<String, Object> values() {
        return SCHEMA.flatten(this);
    }

    /** Every value by dotted key as written in YAML and on the command line (enums by their names). */
    public Map<String, Object> plainValues() {
        Map<String, Object> out = new LinkedHashMap<>();
        values().forEach((k, v) -> out.put(k, SCHEMA.setting(k).toPlain(v)));
        return out;
    }

    /** The keys whose values differ from this configuration's preset, with their values. */
    public Map<String, Object> changes() {
        Map<String, Object> base = SCHEMA.flatten(ofPresetValues(preset));
        Map<String, Object> out = new LinkedHashMap<>();
        values().forEach((k, v) -> {
            if (!k.equals("preset") && !Objects.equals(v, base.get(k))) out.put(k, v);
        });
        return out;
    }

    /**
     * The keys accepted by {@code keys} whose values differ between this configuration and
     * {@code other}, each as {@code "key: this -> other"}, in schema order.
     */
    public List<String> differences(RunConfig other, Predicate<String> keys) {
        Map<String, Object> mine = plainValues(), theirs = other.plainValues();
        List<String> out = new ArrayList<>();
        mine.forEach((key, value) -> {
            if (keys.test(key) && !Objects.equals(value, theirs.get(key))) {
                out.add(key + ": " + value + " -> " + theirs.get(key));
            }
        });
        return out;
    }

    /** What the RL loop reads. */
    public RlConfig rl() {
        return new RlConfig(seed, steps, rollout, reward, loss, curriculum, reuse, optim, checkpoint, kernels);
    }

    /**
     * Writes config.yaml: the preset and the keys that differ from it, nested, under a comment that
     * states the rule (atomically).
     */
    public void writeYaml(Path file) throws java.io.IOException {
        Map<String, Object> flat = new LinkedHashMap<>();
        flat.put("preset", preset);
        changes().forEach((k, v) -> flat.put(k, SCHEMA.setting(k).toPlain(v)));
        ConfigFiles.write(file, flat, "vlmrl run configuration: preset '" + preset
                + "' plus the keys below, which differ from it.\n'vlmrl config --preset " + preset
                + "' lists every key with the value it has here.");
    }

    private static RunConfig ofPresetValues(String preset) {
        Map<String, Object> values = SCHEMA.defaultValues();
        values.put("preset", preset);
        Presets.values(preset).forEach((k, raw) -> values.put(k, SCHEMA.setting(k).coerce(raw)));
        return SCHEMA.build(values);
    }

    private static Map<String, Object> parseOverrides(List<String> overrides) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set: expected key=value, got '" + o + "'");
            }
            String key = o.substring(0, eq).trim();
            Setting setting = SCHEMA.setting(key);
            m.put(key, setting.coerce(o.substring(eq + 1).trim()));
        }
        return m;
    }
}
