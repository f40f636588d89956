package io.vlmrl.run;

import io.vlmrl.config.Schema;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads and writes configuration YAML: nested sections or dotted keys, checked against a {@link Schema}. */
final class ConfigFiles {

    private ConfigFiles() {
    }

    /**
     * The keys of a YAML file, flattened to dotted names, as typed values.
     *
     * @throws IllegalArgumentException naming the file (and line) of unreadable YAML, an unknown key or a bad value
     */
    static Map<String, Object> read(Path file, Schema<?> schema) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--config: no such file '" + file + "'");
        }
        Object root;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("--config: cannot read '" + file + "': " + e.getMessage(), e);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark();
            throw new IllegalArgumentException("--config: " + file + (mark == null ? "" : ":" + (mark.getLine() + 1))
                    + ": not valid YAML: " + e.getProblem(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--config: '" + file + "' is not valid YAML: " + e.getMessage(), e);
        }
        Map<String, Object> flat = new LinkedHashMap<>();
        if (root == null) return flat;
        if (!(root instanceof Map)) {
            throw new IllegalArgumentException("--config: expected a YAML mapping of keys in '" + file + "', got "
                    + root.getClass().getSimpleName());
        }
        flatten("", (Map<?, ?>) root, flat);
        Map<String, Object> typed = new LinkedHashMap<>();
        flat.forEach((key, raw) -> {
            try {
                typed.put(key, schema.setting(key).coerce(raw));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--config " + file + ": " + e.getMessage(), e);
            }
        });
        return typed;
    }

    /** Writes dotted keys as nested YAML under a comment, atomically. */
    static void write(Path file, Map<String, Object> flat, String comment) throws IOException {
        Map<String, Object> nested = new LinkedHashMap<>();
        flat.forEach((key, value) -> {
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
        StringBuilder text = new StringBuilder();
        for (String line : comment.split("\n")) text.append("# ").append(line).append('\n');
        text.append(new Yaml(options).dump(nested));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void flatten(String prefix, Map<?, ?> node, Map<String, Object> out) {
        node.forEach((k, v) -> {
            String key = prefix.isEmpty() ? String.valueOf(k) : prefix + "." + k;
            if (v instanceof Map<?, ?> m) {
                flatten(key, m, out);
            } else {
                out.put(key, v);
            }
        });
    }
}
