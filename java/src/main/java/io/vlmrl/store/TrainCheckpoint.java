package io.vlmrl.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.files.AtomicFiles;
import io.vlmrl.files.DamagedFileException;
import io.vlmrl.files.Manifest;
import io.vlmrl.optim.OptimizerStep;
import io.vlmrl.policy.Policy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Training checkpoints under DIR/checkpoints/: one directory per saved step, step-NNNNNN, holding
 * the policy ({@link Policy#save}), the AdamW state, state.json (the next step to run and how many
 * records of metrics.jsonl belong to the run at that point) and a {@link Manifest} of them all.
 *
 * <ul>
 *   <li><b>Atomic.</b> A checkpoint is written into step-NNNNNN.tmp and renamed into place once
 *       complete, so a run killed at any moment (even kill -9) keeps its last complete checkpoint.
 *       A write that fails (a full disk) deletes the temporary directory, keeps every earlier
 *       checkpoint and throws an {@link IOException} naming the file and the cause.</li>
 *   <li><b>Verified.</b> Resuming checks the manifest; a damaged checkpoint is skipped with a
 *       warning naming the damaged file, and the newest intact one is used.</li>
 *   <li><b>Pruned.</b> After each save only the newest {@code checkpoint.keep} are kept.</li>
 * </ul>
 * No RNG state is stored: every random draw of step t is seeded from (seed, t), and the
 * curriculum keeps no state across steps (the gate and the reuse schedule depend on the step only).
 */
public final class TrainCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(TrainCheckpoint.class);

    public static final String POLICY = "policy";
    public static final String OPTIMIZER = "optimizer.pt";
    public static final String STATE = "state.json";
    private static final Pattern NAME = Pattern.compile("step-(\\d{6,})");

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What a checkpoint holds besides the weights.
     *
     * @param nextStep       the step a resumed run runs first
     * @param metricsRecords records of metrics.jsonl written by the steps before {@code nextStep}
     */
    public record State(int nextStep, int metricsRecords) {}

    private TrainCheckpoint() {}

    /**
     * Saves step {@code nextStep - 1}'s end state, then deletes all but the newest {@code keep}
     * checkpoints.
     *
     * @throws IOException naming the file that could not be written; earlier checkpoints are intact
     */
    public static Path save(RunDirectory run, int nextStep, Policy policy, OptimizerStep optimizer, int metricsRecords,
                            int keep) throws IOException {
        Path root = run.checkpoints();
        Files.createDirectories(root);
        String name = String.format("step-%06d", nextStep);
        Path tmp = root.resolve(name + ".tmp");
        Path target = root.resolve(name);
        try {
            AtomicFiles.deleteRecursively(tmp);
            Files.createDirectories(tmp);
            policy.save(tmp.resolve(POLICY));
            optimizer.save(tmp.resolve(OPTIMIZER));
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("next_step", nextStep);
            state.put("metrics_records", metricsRecords);
            AtomicFiles.write(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
            Manifest.write(tmp);
            AtomicFiles.deleteRecursively(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                AtomicFiles.deleteRecursively(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IOException("cannot write checkpoint " + target + " (earlier checkpoints are intact): "
                    + e.getMessage(), e);
        }
        prune(run, keep);
        return target;
    }

    /** Deletes all but the newest {@code keep} checkpoints (and any leftover temporary directories). */
    static void prune(RunDirectory run, int keep) throws IOException {
        List<Path> all = checkpoints(run);
        for (int i = 0; i < all.size() - keep; i++) AtomicFiles.deleteRecursively(all.get(i));
        try (Stream<Path> entries = Files.list(run.checkpoints())) {
            for (Path p : entries.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
                AtomicFiles.deleteRecursively(p);
            }
        }
    }

    /** The checkpoint directories of a run, oldest first. */
    public static List<Path> checkpoints(RunDirectory run) throws IOException {
        if (!Files.isDirectory(run.checkpoints())) return List.of();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(run.checkpoints())) {
            entries.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)).forEach(out::add);
        }
        out.sort((a, b) -> Long.compare(step(a), step(b)));
        return out;
    }

    private static long step(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The newest checkpoint whose files match its manifest, or null when the run has none. Damaged
     * newer ones are skipped with a warning naming the damaged file.
     *
     * @throws DamagedFileException when checkpoints exist but none is intact
     */
    public static Path latestIntact(RunDirectory run) throws IOException {
        List<Path> all = checkpoints(run);
        DamagedFileException newestDamage = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            Path c = all.get(i);
            try {
                Manifest.verify(c);
                readState(c);
                if (newestDamage != null) {
                    LOG.warn("resuming from {}: a newer checkpoint is damaged ({})", c, newestDamage.getMessage());
                }
                return c;
            } catch (DamagedFileException e) {
                LOG.warn("checkpoint {} is damaged: {}", c, e.getMessage());
                if (newestDamage == null) newestDamage = e;
            }
        }
        if (newestDamage != null) {
            throw new DamagedFileException(newestDamage.file(), newestDamage.problem() + "; no intact checkpoint is left in "
                    + run.checkpoints() + " (delete it to restart RL from the warm start)", newestDamage);
        }
        return null;
    }

    /** Loads a verified checkpoint's weights and optimizer state into the given objects and returns the rest. */
    public static State load(Path checkpoint, Policy policy, OptimizerStep optimizer) throws IOException {
        policy.loadWeights(checkpoint.resolve(POLICY));
        optimizer.load(checkpoint.resolve(OPTIMIZER));
        return readState(checkpoint);
    }

    private static State readState(Path checkpoint) throws IOException {
        Path file = checkpoint.resolve(STATE);
        try {
            Map<String, Object> state = JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
            return new State(((Number) state.get("next_step")).intValue(), ((Number) state.get("metrics_records")).intValue());
        } catch (IOException | RuntimeException e) {
            throw new DamagedFileException(file, "unreadable checkpoint state (" + e.getMessage() + ")", e);
        }
    }
}
