package io.vlmrl.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.Policy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training checkpoints under DIR/checkpoints/: one directory per saved step holding the policy
 * ({@link Policy#save}), the AdamW state and state.json (the next step to run and how many
 * records of metrics.jsonl belong to the run at that point). A checkpoint is written into a
 * temporary directory and renamed into place, then DIR/checkpoints/latest (the name of the newest
 * complete one) is replaced atomically, so a run killed at any moment (even kill -9) resumes from
 * the last complete checkpoint.
 *
 * <p>No RNG state is stored: every random draw of step t is seeded from (seed, t), and the
 * curriculum keeps no state across steps (the gate and the reuse schedule depend on the step only).
 */
public final class TrainCheckpoint {

    public static final String LATEST = "latest";
    public static final String POLICY = "policy";
    public static final String OPTIMIZER = "optimizer.pt";
    public static final String STATE = "state.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What a checkpoint holds besides the weights.
     *
     * @param nextStep       the step a resumed run runs first
     * @param metricsRecords records of metrics.jsonl written by the steps before {@code nextStep}
     */
    public record State(int nextStep, int metricsRecords) {}

    private TrainCheckpoint() {}

    /** Saves step {@code nextStep - 1}'s end state. */
    public static void save(RunDirectory run, int nextStep, Policy policy, OptimizerStep optimizer, int metricsRecords)
            throws IOException {
        Path root = run.checkpoints();
        Files.createDirectories(root);
        String name = String.format("step-%06d", nextStep);
        Path tmp = root.resolve(name + ".tmp");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        policy.save(tmp.resolve(POLICY));
        optimizer.save(tmp.resolve(OPTIMIZER));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("next_step", nextStep);
        state.put("metrics_records", metricsRecords);
        Files.write(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
        Path target = root.resolve(name);
        deleteRecursively(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        Path latestTmp = root.resolve(LATEST + ".tmp");
        Files.writeString(latestTmp, name, StandardCharsets.UTF_8);
        Files.move(latestTmp, root.resolve(LATEST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The newest complete checkpoint of a run, or null when there is none. */
    public static Path latest(RunDirectory run) throws IOException {
        Path pointer = run.checkpoints().resolve(LATEST);
        if (!Files.exists(pointer)) return null;
        return run.checkpoints().resolve(Files.readString(pointer, StandardCharsets.UTF_8).trim());
    }

    /** Loads weights and optimizer state into the given objects and returns the rest. */
    public static State load(Path checkpoint, Policy policy, OptimizerStep optimizer) throws IOException {
        policy.loadWeights(checkpoint.resolve(POLICY));
        optimizer.load(checkpoint.resolve(OPTIMIZER));
        Map<String, Object> state = JSON.readValue(checkpoint.resolve(STATE).toFile(),
                new TypeReference<LinkedHashMap<String, Object>>() {});
        return new State(((Number) state.get("next_step")).intValue(), ((Number) state.get("metrics_records")).intValue());
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
