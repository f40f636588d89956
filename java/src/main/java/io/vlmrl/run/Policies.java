package io.vlmrl.run;

import io.vlmrl.config.Schema;
import io.vlmrl.data.Problem;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.model.ModelConfig;
import io.vlmrl.model.WeightDtype;
import io.vlmrl.policy.Policy;
import io.vlmrl.qwen.QwenPolicy;
import io.vlmrl.store.PolicyDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Creates and loads the policies vlmrl knows, telling saved ones apart by their files: a vlmrl
 * checkpoint of the built-in model ({@code model.pt}) or a Hugging Face Qwen2.5-VL / Qwen2-VL
 * directory ({@code config.json} and safetensors weights).
 */
public final class Policies {

    private Policies() {
    }

    /**
     * The initial policy of a run: the model at {@code model.path}, or a fresh built-in model sized
     * by the {@code model.*} keys with a vocabulary that covers {@code data}.
     */
    public static Policy initial(RunConfig config, RunData data) throws IOException {
        if (config.model().loaded()) {
            return load(Path.of(config.model().path()), config.model());
        }
        return BuiltinPolicy.create(config.model(), data.builtinTokenizer(), config.seed());
    }

    /** {@link #load(Path, ModelConfig)} with the default {@code model.*} keys but {@code model.freeze_vision}. */
    public static Policy load(Path dir, boolean freezeVision) throws IOException {
        return load(dir, Schema.with(ModelConfig.defaults(), "freeze_vision=" + freezeVision));
    }

    /**
     * A policy saved in {@code dir}, with the {@code model.*} keys that apply to a loaded model
     * ({@code freeze_vision}, {@code dtype}, {@code save_dtype}, {@code save_shard_mb}).
     *
     * @throws IllegalArgumentException naming the directory when it holds no model vlmrl can load,
     *                                  or the file that is missing or wrong in a Hugging Face directory
     */
    public static Policy load(Path dir, ModelConfig model) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model.path: expected a model directory, got '" + dir + "' (no such directory)");
        }
        PolicyDirectory.verify(dir);
        if (BuiltinPolicy.isCheckpoint(dir)) {
            if (model.dtype() != WeightDtype.FLOAT32) {
                throw new IllegalArgumentException("config key 'model.dtype': expected float32 for the built-in model in '" + dir
                        + "' (bfloat16 applies to Hugging Face models), got " + model.dtype().configName());
            }
            return BuiltinPolicy.load(dir, model.freezeVision(), model.sharePromptCompute());
        }
        if (QwenPolicy.isModelDir(dir)) {
            if (!model.sharePromptCompute()) {
                throw new IllegalArgumentException("config key 'model.share_prompt_compute': expected true for the Hugging Face "
                        + "model in '" + dir + "' (its generator always decodes a group from one prefill and its training "
                        + "forward always runs each distinct prompt once), got false");
            }
            return QwenPolicy.load(dir, new QwenPolicy.Options(model.freezeVision(), model.dtype(), model.saveDtype(),
                    model.saveShardBytes()));
        }
        throw new IllegalArgumentException("model.path: '" + dir + "' holds no model vlmrl can load (expected a vlmrl "
                + "checkpoint with model.pt, or a Hugging Face Qwen2.5-VL / Qwen2-VL directory with config.json and "
                + "model.safetensors or model.safetensors.index.json)");
    }

    /** Whether {@code dir} holds a model vlmrl can load (or a Hugging Face directory it would try to). */
    public static boolean holdsModel(Path dir) {
        return BuiltinPolicy.isCheckpoint(dir) || QwenPolicy.isModelDir(dir);
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
