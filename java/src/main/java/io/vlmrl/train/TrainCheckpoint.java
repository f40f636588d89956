package io.vlmrl.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.policy.Tokenizer;
import io.vlmrl.model.VisionLanguageModel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training checkpoints under DIR/checkpoints/: one directory per saved step holding the policy
 * ({@link Checkpoint}), the AdamW state and state.json (the next step to run and the metrics so
 * far). A checkpoint is written into a temporary directory and renamed into place, then
 * DIR/checkpoints/latest (the name of the newest complete one) is replaced atomically, so a
 * run killed at any moment (even kill -9) resumes from the last complete checkpoint.
 *
 * <p>No RNG state is stored: every random draw of step t is seeded from (seed, t)
 * ({@link Seeds}), and the curriculum keeps no state across steps (the gate and the reuse
 * schedule depend on the step only).
 */
public final class TrainCheckpoint {

    public static final String DIR = "checkpoints";
    public static final String LATEST = "latest";
    public static final String POLICY = "policy";
    public static final String OPTIMIZER = "optimizer.pt";
    public static final String STATE = "state.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a checkpoint holds besides the weights. */
    public record State(int nextStep, List<Map<String, Object>> metrics) {}

    private TrainCheckpoint() {}

    /** Saves step {@code nextStep - 1}'s end state under {@code runDir}/checkpoints. */
    public static void save(Path runDir, int nextStep, VisionLanguageModel policy, Tokenizer tokenizer,
                            OptimizerStep optimizer, List<Map<String, Object>> metrics) throws IOException {
        Path root = runDir.resolve(DIR);
        Files.createDirectories(root);
        String name = String.format("step-%06d", nextStep);
        Path tmp = root.resolve(name + ".tmp");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        Checkpoint.save(tmp.resolve(POLICY), policy, tokenizer);
        optimizer.save(tmp.resolve(OPTIMIZER));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("next_step", nextStep);
        state.put("metrics", metrics);
        Files.write(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
        Path target = root.resolve(name);
        deleteRecursively(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        Path latestTmp = root.resolve(LATEST + ".tmp");
        Files.writeString(latestTmp, name, StandardCharsets.UTF_8);
        Files.move(latestTmp, root.resolve(LATEST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The newest complete checkpoint of a run, or null when there is none. */
    public static Path latest(Path runDir) throws IOException {
        Path pointer = runDir.resolve(DIR).resolve(LATEST);
        if (!Files.exists(pointer)) return null;
        return runDir.resolve(DIR).resolve(Files.readString(pointer, StandardCharsets.UTF_8).trim());
    }

    /** Loads weights and optimizer state into the given objects and returns the rest. */
    public static State load(Path checkpoint, VisionLanguageModel policy, OptimizerStep optimizer) throws IOException {
        Checkpoint.loadWeights(checkpoint.resolve(POLICY).resolve(Checkpoint.WEIGHTS_FILE), policy);
        optimizer.load(checkpoint.resolve(OPTIMIZER));
        Map<String, Object> state = JSON.readValue(checkpoint.resolve(STATE).toFile(),
                new TypeReference<LinkedHashMap<String, Object>>() {});
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> metrics = (List<Map<String, Object>>) state.get("metrics");
        return new State(((Number) state.get("next_step")).intValue(), metrics);
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
