package io.vlmrl.train;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.QuestionType;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.policy.Tokenizer;
import io.vlmrl.model.VlmConfig;
import io.vlmrl.model.WordTokenizer;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The resolved configuration of a run: every key of {@link ConfigSchema}, typed and
 * validated. Resolution order, later wins: schema defaults, the preset, the YAML file,
 * then {@code --set key=value} overrides. Unknown keys and out-of-range values are refused
 * before any work starts, with a message naming the key, the value and the allowed range.
 */
public final class TrainConfig {

    private final Map<String, Object> values;

    private TrainConfig(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
        checkConsistency();
    }

    /** The defaults with preset {@code preset} applied. */
    public static TrainConfig ofPreset(String preset) {
        return resolve(preset, null, List.of());
    }

    /**
     * Resolves a run's configuration.
     *
     * @param preset    preset name, or null to take it from the file (default: the schema's)
     * @param yamlFile  a YAML file of (nested or dotted) keys, or null
     * @param overrides {@code key=value} strings with dotted keys
     */
    public static TrainConfig resolve(String preset, Path yamlFile, List<String> overrides) {
        Map<String, Object> fromFile = yamlFile == null ? Map.of() : readYaml(yamlFile);
        Map<String, Object> fromSet = parseOverrides(overrides);
        String chosen = preset != null ? preset
                : fromSet.containsKey("preset") ? fromSet.get("preset").toString()
                : fromFile.containsKey("preset") ? fromFile.get("preset").toString()
                : (String) ConfigSchema.setting("preset").defaultValue();

        Map<String, Object> v = new LinkedHashMap<>();
        ConfigSchema.settings().forEach((k, s) -> v.put(k, s.defaultValue()));
        ConfigSchema.setting("preset").coerce(chosen);
        Presets.values(chosen).forEach((k, raw) -> v.put(k, ConfigSchema.setting(k).coerce(raw)));
        fromFile.forEach((k, raw) -> v.put(k, ConfigSchema.setting(k).coerce(raw)));
        fromSet.forEach((k, raw) -> v.put(k, ConfigSchema.setting(k).coerce(raw)));
        v.put("preset", chosen);
        return new TrainConfig(v);
    }

    /** This configuration with {@code key=value} overrides applied on top. */
    public TrainConfig with(String... overrides) {
        Map<String, Object> v = new LinkedHashMap<>(values);
        parseOverrides(List.of(overrides)).forEach((k, raw) -> v.put(k, ConfigSchema.setting(k).coerce(raw)));
        return new TrainConfig(v);
    }

    /** Reads a configuration written by {@link #writeYaml} (or any YAML of known keys). */
    public static TrainConfig load(Path yamlFile) {
        return resolve(null, yamlFile, List.of());
    }

    /** The typed value of {@code key} (Integer, Double, Boolean or String). */
    public Object get(String key) {
        ConfigSchema.setting(key);
        return values.get(key);
    }

    /** All values by dotted key. */
    public Map<String, Object> values() {
        return values;
    }

    /**
     * The keys accepted by {@code keys} whose values differ between this configuration and
     * {@code other}, each as {@code "key: this -> other"}, in schema order.
     */
    public List<String> differences(TrainConfig other, Predicate<String> keys) {
        List<String> out = new ArrayList<>();
        values.forEach((key, value) -> {
            Object theirs = other.values.get(key);
            if (keys.test(key) && !Objects.equals(value, theirs)) {
                out.add(key + ": " + value + " -> " + theirs);
            }
        });
        return out;
    }

    /** Writes the resolved configuration as nested YAML. */
    public void writeYaml(Path file) throws IOException {
        Map<String, Object> nested = new LinkedHashMap<>();
        values.forEach((key, value) -> {
            String[] parts = key.split("\\.");
            Map<String, Object> node = nested;
            for (int i = 0; i < parts.length - 1; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> child = (Map<String, Object>) node.computeIfAbsent(parts[i], p -> new LinkedHashMap<>());
                node = child;
            }
            node.put(parts[parts.length - 1], value);
        });
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, new Yaml(options).dump(nested), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    // ---- typed accessors, grouped as in the schema ----

    public String preset() { return str("preset"); }
    public long seed() { return integer("seed"); }
    public int steps() { return integer("steps"); }
    public int threads() { return integer("threads"); }
    public boolean fusedKernels() { return str("kernels").equals("fused"); }
    public int checkpointEvery() { return integer("checkpoint.every"); }
    public int evalSize() { return integer("eval.size"); }

    public int minDifficulty() { return integer("task.min_difficulty"); }
    public int maxDifficulty() { return integer("task.max_difficulty"); }
    public int gridSize() { return integer("task.grid_size"); }
    public long taskSeed() { return integer("task.seed"); }
    public double teacherMissRate() { return real("task.teacher_miss_rate"); }

    public int imageSize() { return integer("model.image_size"); }
    public int patchSize() { return integer("model.patch_size"); }
    public int mergeSize() { return integer("model.merge_size"); }
    public int visionWidth() { return integer("model.vision_width"); }
    public int visionLayers() { return integer("model.vision_layers"); }
    public int hiddenSize() { return integer("model.hidden_size"); }
    public int layers() { return integer("model.layers"); }
    public int heads() { return integer("model.heads"); }
    public int intermediateSize() { return integer("model.intermediate_size"); }

    /** The model's sizes from the model.* keys, with the vocabulary and special ids of {@code tokenizer}. */
    public VlmConfig modelConfig(Tokenizer tokenizer) {
        return VlmConfig.builder().tokenizer(tokenizer)
                .imageSize(imageSize()).patchSize(patchSize()).mergeSize(mergeSize())
                .visionWidth(visionWidth()).visionLayers(visionLayers())
                .hiddenSize(hiddenSize()).numLayers(layers()).numHeads(heads()).numKvHeads(heads())
                .intermediateSize(intermediateSize())
                .build();
    }

    /** The built-in task's settings (all question types, 10% held out); image size from model.image_size. */
    public TaskConfig taskConfig() {
        return new TaskConfig(imageSize(), gridSize(), minDifficulty(), maxDifficulty(),
                EnumSet.allOf(QuestionType.class), taskSeed(), TaskConfig.defaults().heldOutPercent(), teacherMissRate());
    }

    public int sftSteps() { return integer("sft.steps"); }
    public double sftLr() { return real("sft.lr"); }
    public int sftBatchSize() { return integer("sft.batch_size"); }

    public String advantage() { return str("loss.advantage"); }
    public String clipMode() { return str("loss.clip_mode"); }
    public double epsLow() { return real("loss.eps_low"); }
    public double epsHigh() { return real("loss.eps_high"); }
    public String aaacNorm() { return str("loss.aaac_norm"); }
    public double aaacEpsMin() { return real("loss.aaac_eps_min"); }
    public double aaacEpsMax() { return real("loss.aaac_eps_max"); }
    public boolean dualClip() { return flag("loss.dual_clip"); }
    public double dualClipC() { return real("loss.dual_clip_c"); }
    public String kl() { return str("loss.kl"); }
    public boolean klOn() { return !kl().equals("none"); }
    public double klBeta() { return real("loss.kl_beta"); }
    public String klAggregation() { return str("loss.kl_aggregation"); }
    public String aggregation() { return str("loss.aggregation"); }
    public double entropyCoef() { return real("loss.entropy_coef"); }
    public boolean dads() { return flag("loss.dads"); }
    public double dadsKappa() { return real("loss.dads_kappa"); }
    public boolean stcr() { return flag("loss.stcr"); }
    public double stcrAlpha() { return real("loss.stcr_alpha"); }

    public int promptsPerStep() { return integer("rollout.prompts_per_step"); }
    public int groupSize() { return integer("rollout.group_size"); }
    public int maxResponseLength() { return integer("rollout.max_response_length"); }
    public double temperature() { return real("rollout.temperature"); }
    public double topP() { return real("rollout.top_p"); }
    public int topK() { return integer("rollout.top_k"); }

    public boolean dynamicSampling() { return flag("dapo.dynamic_sampling"); }
    public boolean overlongShaping() { return flag("dapo.overlong_shaping"); }
    public int overlongMaxLength() { return integer("dapo.overlong_max_length"); }
    public int overlongCache() { return integer("dapo.overlong_cache"); }

    public boolean gate() { return flag("curriculum.gate"); }
    public double gateTau() { return real("curriculum.tau"); }
    /** N_max with the default (-1) resolved to G - 1. */
    public int gateNMax() {
        int n = integer("curriculum.n_max");
        return n < 0 ? groupSize() - 1 : n;
    }
    public int maxGenerationBatches() { return integer("curriculum.max_generation_batches"); }

    public String reuseKind() { return str("reuse.kind"); }
    public int reuseKMax() { return integer("reuse.k_max"); }
    public int reuseTRamp() { return integer("reuse.t_ramp"); }

    public double reasoningWeight() { return real("reward.reasoning_weight"); }

    public double lr() { return real("optim.lr"); }
    public int warmupSteps() { return integer("optim.warmup_steps"); }

    /** Learning rate of RL step {@code step} (0-based): linear warm-up to {@link #lr()}, then constant. */
    public double lrAt(int step) {
        return OptimizerStep.linearWarmup(lr(), step, warmupSteps());
    }

    public double weightDecay() { return real("optim.weight_decay"); }
    public double beta1() { return real("optim.beta1"); }
    public double beta2() { return real("optim.beta2"); }
    public double gradClip() { return real("optim.grad_clip"); }
    public int miniBatchSize() { return integer("optim.mini_batch_size"); }
    public int microBatchSize() { return integer("optim.micro_batch_size"); }

    @Override
    public String toString() {
        return values.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainConfig && ((TrainConfig) o).values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    // ---- internals ----

    private int integer(String key) { return (Integer) values.get(key); }
    private double real(String key) { return (Double) values.get(key); }
    private boolean flag(String key) { return (Boolean) values.get(key); }
    private String str(String key) { return (String) values.get(key); }

    /** Rules that involve more than one key. */
    private void checkConsistency() {
        if (minDifficulty() > maxDifficulty()) {
            throw new IllegalArgumentException("config key 'task.max_difficulty': expected an integer in ["
                    + minDifficulty() + " (task.min_difficulty), 3], got '" + maxDifficulty() + "'");
        }
        try {
            modelConfig(WordTokenizer.fromWords(BuiltinTask.vocabulary()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config keys 'model.*': " + e.getMessage(), e);
        }
        try {
            taskConfig();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config keys 'task.*' / 'model.image_size': " + e.getMessage(), e);
        }
        if (aaacEpsMin() > aaacEpsMax()) {
            throw new IllegalArgumentException("config key 'loss.aaac_eps_max': expected a number in ["
                    + aaacEpsMin() + " (loss.aaac_eps_min), 10], got '" + aaacEpsMax() + "'");
        }
        int nMax = integer("curriculum.n_max");
        if (nMax == 0 || nMax > groupSize()) {
            throw new IllegalArgumentException("config key 'curriculum.n_max': expected -1 (G - 1) or an integer in [1, "
                    + groupSize() + " (rollout.group_size)], got '" + nMax + "'");
        }
        if (overlongCache() > overlongMaxLength()) {
            throw new IllegalArgumentException("config key 'dapo.overlong_cache': expected an integer in [0, "
                    + overlongMaxLength() + " (dapo.overlong_max_length)], got '" + overlongCache() + "'");
        }
        if (microBatchSize() > miniBatchSize()) {
            throw new IllegalArgumentException("config key 'optim.micro_batch_size': expected an integer in [1, "
                    + miniBatchSize() + " (optim.mini_batch_size)], got '" + microBatchSize() + "'");
        }
    }

    private static Map<String, Object> parseOverrides(List<String> overrides) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set: expected key=value, got '" + o + "'");
            }
            String key = o.substring(0, eq).trim();
            ConfigSchema.setting(key);
            m.put(key, o.substring(eq + 1).trim());
        }
        return m;
    }

    private static Map<String, Object> readYaml(Path file) {
        Object root;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("--config: cannot read '" + file + "': " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--config: '" + file + "' is not valid YAML: " + e.getMessage(), e);
        }
        Map<String, Object> flat = new LinkedHashMap<>();
        if (root == null) return flat;
        if (!(root instanceof Map)) {
            throw new IllegalArgumentException("--config: expected a YAML mapping of keys in '" + file + "'");
        }
        flatten("", (Map<?, ?>) root, flat);
        flat.keySet().forEach(ConfigSchema::setting);
        return flat;
    }

    private static void flatten(String prefix, Map<?, ?> node, Map<String, Object> out) {
        node.forEach((k, v) -> {
            String key = prefix.isEmpty() ? k.toString() : prefix + "." + k;
            if (v instanceof Map) {
                flatten(key, (Map<?, ?>) v, out);
            } else {
                out.put(key, v);
            }
        });
    }
}
