package io.vlmrl.run;

import io.vlmrl.data.Problem;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.policy.Policy;
import io.vlmrl.store.PolicyDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Creates and loads the policies vlmrl knows: a fresh or saved built-in model (and, by its files, a model directory). */
public final class Policies {

    private Policies() {
    }

    /**
     * The initial policy of a run: the model at {@code model.path}, or a fresh built-in model sized
     * by the {@code model.*} keys with a vocabulary that covers {@code data}.
     */
    public static Policy initial(RunConfig config, RunData data) throws IOException {
        if (config.model().loaded()) {
            return load(Path.of(config.model().path()), config.model().freezeVision());
        }
        return BuiltinPolicy.create(config.model(), data.builtinTokenizer(), config.seed());
    }

    /**
     * A policy saved in {@code dir}.
     *
     * @throws IllegalArgumentException naming the directory when it holds no model vlmrl can load
     */
    public static Policy load(Path dir, boolean freezeVision) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model.path: expected a model directory, got '" + dir + "' (no such directory)");
        }
        PolicyDirectory.verify(dir);
        if (BuiltinPolicy.isCheckpoint(dir)) {
            return BuiltinPolicy.load(dir, freezeVision);
        }
        throw new IllegalArgumentException("model.path: '" + dir + "' holds no model vlmrl can load (expected a vlmrl "
                + "checkpoint with model.pt, or a Hugging Face Qwen2.5-VL / Qwen2-VL directory with config.json and "
                + "*.safetensors)");
    }

    /** Whether {@code dir} holds a model vlmrl can load. */
    public static boolean holdsModel(Path dir) {
        return BuiltinPolicy.isCheckpoint(dir);
    }

    /**
     * Checks every problem against the policy (images, text it can encode) before any work starts.
     *
     * @throws IllegalArgumentException naming the first problem the policy cannot take
     */
    public static void check(Policy policy, List<Problem> problems) {
        for (Problem p : problems) policy.check(p);
    }
}
