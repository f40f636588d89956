package io.vlmrl.run;

import io.vlmrl.kernels.ComputeThreads;
import io.vlmrl.dist.Collectives;
import io.vlmrl.dist.LaunchEnvironment;
import io.vlmrl.policy.Policy;
import io.vlmrl.sft.SftResult;
import io.vlmrl.store.PolicyDirectory;
import io.vlmrl.store.RunDirectory;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code vlmrl sft} does: supervised training of the initial policy ({@code model.path} or a
 * fresh built-in model) on the run's demonstrations, saved as a model directory that
 * {@code train --model} loads. The directory also holds sft.json (the loss curve) and config.yaml.
 * Data parallel like {@code train} (SFT only), rank 0 writing the model.
 */
public final class SftJob {

    private SftJob() {
    }

    /**
     * Refuses an output that would lose work: a regular file, or a directory that already holds a
     * model (unless {@code force}). Called before any work starts.
     */
    public static void checkOutput(Path out, boolean force) {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out: expected a directory for the model, got the file '" + out + "'");
        }
        if (Files.isDirectory(out) && Policies.holdsModel(out)) {
            if (!force) {
                throw new IllegalArgumentException("--out: " + out + " already holds a model; choose another directory, "
                        + "or pass --force to replace it");
            }
        } else if (Files.isDirectory(out) && !isEmpty(out)) {
            throw new IllegalArgumentException("--out: " + out + " is a directory with other files in it; "
                    + "choose a new or empty directory for the model");
        }
    }

    private static boolean isEmpty(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            throw new IllegalArgumentException("--out: cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Trains and saves in one process; returns the loss curve. */
    public static SftResult run(RunConfig config, Path out, boolean force, boolean showProgress) throws IOException {
        return run(config, out, force, showProgress, LaunchEnvironment.single());
    }

    /**
     * Trains as one rank of the data-parallel run {@code env} describes (every rank runs this with
     * the same settings) and returns the loss curve; rank 0 checks {@code out} and saves the model.
     */
    public static SftResult run(RunConfig config, Path out, boolean force, boolean showProgress, LaunchEnvironment env)
            throws IOException {
        if (env.rank() == 0) checkOutput(out, force);
        RunData data = RunData.open(config, RunData.Need.TRAIN);
        ComputeThreads.use(config.threads());
        try (Collectives world = Collectives.join(env, config.dist())) {
            try (Policy policy = Policies.initial(config, data)) {
                Policies.check(policy, data.toCheck());
                SftResult result;
                try {
                    result = new io.vlmrl.sft.SftTrainer(policy, config.sft(), config.seed())
                            .showProgress(showProgress && world.isRankZero()).dataParallel(world).train(data.sft());
                } catch (IllegalArgumentException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw JobFailedException.recorded(out.resolveSibling(out.getFileName() + ".log"), e);
                }
                if (world.isRankZero()) {
                    PolicyDirectory.save(policy, out, dir -> {
                        result.writeJson(dir.resolve(RunDirectory.SFT_RESULT_FILE));
                        config.writeYaml(dir.resolve(RunDirectory.CONFIG_FILE));
                    });
                }
                return result;
            } catch (IOException | RuntimeException e) {
                world.reportFailure(e);
                throw e;
            }
        }
    }
}
