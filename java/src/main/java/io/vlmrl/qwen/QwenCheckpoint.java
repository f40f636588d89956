package io.vlmrl.qwen;

import io.vlmrl.hf.SafeDtype;
import io.vlmrl.hf.SafeTensorInfo;
import io.vlmrl.hf.SafeTensors;
import io.vlmrl.hf.SafeTensorsException;
import io.vlmrl.hf.SafeTensorsReader;
import io.vlmrl.hf.SafeTensorsWriter;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Loading and saving a {@link QwenVlModel} as a Hugging Face model directory: {@code config.json}
 * plus {@code model.safetensors} or shards with {@code model.safetensors.index.json}.
 *
 * <h2>Loading</h2>
 * Tensor names are mapped onto the model's (the hub's legacy names): the newer transformers layout
 * {@code model.visual.*} → {@code visual.*}, {@code model.language_model.*} → {@code model.*};
 * {@code lm_head.*} and legacy names stay. Every parameter must be present with its exact shape
 * and a floating-point dtype (F32, BF16, F16 or F64; up-cast exactly to float32), every value must
 * be finite, and the checkpoint must hold nothing else, except {@code lm_head.weight} in a tied
 * model, which transformers ignores too. Violations throw a {@link SafeTensorsException} naming the
 * file and the tensor. Each tensor is read, checked and copied inside its own {@code PointerScope}.
 *
 * <h2>Saving</h2>
 * Parameters are written under the legacy names, in the model's order (vision tower first, as
 * {@code save_pretrained}), as float32 or BF16 (or F16), sharded at a maximum shard size; the
 * config is the loaded {@code config.json} with {@code torch_dtype} updated. Files are written
 * atomically (see {@link SafeTensorsWriter}); weight files of an earlier save in another layout are
 * removed.
 *
 * <p>Build and load models outside any {@code PointerScope} (see {@link QwenVlModel}).
 */
public final class QwenCheckpoint {
    /** transformers' default {@code max_shard_size} ("5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private QwenCheckpoint() {
    }

    /** Reads {@code dir/config.json} and the weights: a new float32 CPU model. */
    public static QwenVlModel load(Path dir) throws IOException {
        QwenVlConfig config;
        try {
            config = QwenVlConfig.load(dir);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        QwenVlModel model = new QwenVlModel(config);
        loadWeights(dir, model);
        return model;
    }

    /** The model's name for a stored tensor name (newer transformers layout → legacy hub names). */
    public static String canonicalName(String stored) {
        if (stored.startsWith("model.visual.")) {
            return stored.substring("model.".length());
        }
        if (stored.startsWith("model.language_model.")) {
            return "model." + stored.substring("model.language_model.".length());
        }
        return stored;
    }

    /** Copies the weights of model directory (or single file) {@code path} into {@code model}; see the class comment. */
    public static void loadWeights(Path path, QwenVlModel model) throws IOException {
        Map<String, Tensor> parameters = model.namedParameters();
        boolean tied = model.config().text().tieWordEmbeddings();
        try (SafeTensorsReader reader = SafeTensors.openModel(path)) {
            Map<String, String> stored = new LinkedHashMap<>(); // canonical -> stored name
            for (String name : reader.names()) {
                String canonical = canonicalName(name);
                String previous = stored.put(canonical, name);
                if (previous != null) {
                    throw new SafeTensorsException(reader.fileOf(name), name, "holds the same parameter as " + previous
                            + " (both are " + canonical + ")");
                }
            }
            TreeSet<String> missing = new TreeSet<>(parameters.keySet());
            missing.removeAll(stored.keySet());
            if (!missing.isEmpty()) {
                throw new SafeTensorsException(path, missing.first(), "missing from the checkpoint ("
                        + missing.size() + " parameters missing: " + abbreviate(missing) + ")");
            }
            TreeSet<String> unexpected = new TreeSet<>(stored.keySet());
            unexpected.removeAll(parameters.keySet());
            if (tied) {
                unexpected.remove("lm_head.weight");
            }
            if (!unexpected.isEmpty()) {
                String first = stored.get(unexpected.first());
                throw new SafeTensorsException(reader.fileOf(first), first, "is not a parameter of this "
                        + model.config().modelType() + " model (" + unexpected.size() + " unexpected: " + abbreviate(unexpected) + ")");
            }
            try (NoGradGuard noGrad = new NoGradGuard()) {
                for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
                    String name = stored.get(e.getKey());
                    Path file = reader.fileOf(name);
                    SafeTensorInfo info = reader.info(name);
                    long[] expected = QwenTensors.shape(e.getValue());
                    if (!Arrays.equals(expected, info.shape())) {
                        throw new SafeTensorsException(file, name, "has shape " + Arrays.toString(info.shape())
                                + ", the model expects " + Arrays.toString(expected));
                    }
                    if (!info.dtype().isFloatingPoint()) {
                        throw new SafeTensorsException(file, name, "has dtype " + info.dtype()
                                + ", expected a floating-point dtype (F32, BF16, F16, F64)");
                    }
                    try (PointerScope scope = new PointerScope()) {
                        Tensor value = reader.readFloat32(name);
                        if (!value.isfinite().all().item_bool()) {
                            long bad = value.isfinite().logical_not().sum().item_long();
                            throw new SafeTensorsException(file, name, "holds " + bad + " NaN or infinite values");
                        }
                        e.getValue().copy_(value);
                    }
                }
            }
        }
    }

    /**
     * Writes {@code model} into {@code dir} (created if needed): weights as {@code dtype}, sharded at
     * {@code maxShardBytes}, then {@code config.json}.
     *
     * @param dtype {@link SafeDtype#F32}, {@link SafeDtype#BF16} or {@link SafeDtype#F16}
     * @return the files written (weights, index if sharded, config)
     */
    public static List<Path> save(QwenVlModel model, Path dir, SafeDtype dtype, long maxShardBytes) throws IOException {
        String torchDtype = switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("dtype must be F32, BF16 or F16, got " + dtype);
        };
        Files.createDirectories(dir);
        List<Path> written = new java.util.ArrayList<>(SafeTensors.writeModel(dir, model.namedParameters(), dtype, maxShardBytes));
        Path config = dir.resolve("config.json");
        SafeTensorsWriter.writeAtomically(config, model.config().toJson(torchDtype).getBytes(StandardCharsets.UTF_8));
        written.add(config);
        return written;
    }

    /** {@link #save} with transformers' default shard size. */
    public static List<Path> save(QwenVlModel model, Path dir, SafeDtype dtype) throws IOException {
        return save(model, dir, dtype, DEFAULT_MAX_SHARD_BYTES);
    }

    private static String abbreviate(TreeSet<String> names) {
        List<String> list = List.copyOf(names);
        return list.size() <= 5 ? list.toString() : list.subList(0, 5) + " ...";
    }
}
