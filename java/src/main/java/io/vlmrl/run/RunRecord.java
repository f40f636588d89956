package io.vlmrl.run;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.files.AtomicFiles;
import io.vlmrl.store.RunDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * DIR/run.json: every resolved value a run was made with. config.yaml is what a user reads and
 * edits (the preset and its changes); this record is what a continued run is checked against, so
 * that a config.yaml that was cut short, emptied or edited never silently changes what a run
 * trains: the continuation is refused, naming the keys whose values differ.
 */
public final class RunRecord {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RunRecord() {
    }

    /** Writes the record of {@code config} into {@code dir}. */
    public static void write(Path dir, RunConfig config) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("config", config.plainValues());
        AtomicFiles.write(dir.resolve(RunDirectory.RECORD_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }

    /**
     * Checks that {@code requested} continues the run recorded in {@code dir}: every key's value
     * equals the recorded one, except the keys in {@code mayChange} (those given on the command line
     * of a resume, such as {@code steps}). A directory with no run yet passes.
     *
     * @param advice what the user can do instead, ending the error message
     * @throws IllegalArgumentException naming the keys that differ, or the record that is missing or damaged
     */
    public static void checkContinues(Path dir, RunConfig requested, Set<String> mayChange, String advice) {
        Path file = dir.resolve(RunDirectory.RECORD_FILE);
        Map<String, Object> recorded;
        if (!Files.isRegularFile(file)) {
            if (Files.isRegularFile(dir.resolve(RunDirectory.CONFIG_FILE))) {
                throw new IllegalArgumentException("--out: " + dir + " holds a run (config.yaml) without its record "
                        + RunDirectory.RECORD_FILE + ", so its settings cannot be checked; choose another --out");
            }
            return;
        }
        try {
            Map<String, Object> root = JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
            @SuppressWarnings("unchecked")
            Map<String, Object> config = (Map<String, Object>) root.get("config");
            if (config == null) throw new IOException("no \"config\"");
            recorded = config;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--out: " + file + " is damaged (" + e.getMessage()
                    + "), so the run's settings cannot be checked; choose another --out");
        }
        Map<String, Object> now = JSON.convertValue(requested.plainValues(), new TypeReference<LinkedHashMap<String, Object>>() {});
        List<String> differences = new ArrayList<>();
        for (String key : RunConfig.schema().settings().keySet()) {
            if (mayChange.contains(key)) continue;
            Object was = recorded.get(key), is = now.get(key);
            if (!sameValue(was, is)) differences.add(key + ": " + (recorded.containsKey(key) ? was : "(not recorded)") + " -> " + is);
        }
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException("--out: " + dir + " holds a run made with other settings than "
                    + "requested (" + String.join(", ", differences) + "); " + advice);
        }
    }

    private static boolean sameValue(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) return x.doubleValue() == y.doubleValue();
        return Objects.equals(a, b);
    }
}
