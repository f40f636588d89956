package io.vlmrl.model;

import io.vlmrl.files.ArchiveFiles;
import io.vlmrl.files.AtomicFiles;
import io.vlmrl.files.DamagedFileException;
import io.vlmrl.policy.Tokenizer;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Saving and loading a model as a directory:
 * <ul>
 *   <li>{@value #CONFIG_FILE}: the {@link VlmConfig} as JSON;</li>
 *   <li>{@value #TOKENIZER_FILE}: the {@link WordTokenizer} vocabulary (when one is given);</li>
 *   <li>{@value #WEIGHTS_FILE}: every parameter by its dotted name, in a LibTorch archive
 *       ({@code torch::serialize::OutputArchive}, readable by {@code torch::load} in C++).</li>
 * </ul>
 * Each file is written to a temporary file in the same directory and moved into place atomically,
 * so a crash never leaves a half-written file under the final name. The weights are written last.
 * Reading a missing, truncated or corrupt file, or weights that do not fit the config, throws a
 * {@link CheckpointException} naming the file.
 */
public final class Checkpoint {
    public static final String CONFIG_FILE = "config.json";
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String WEIGHTS_FILE = "model.pt";

    private Checkpoint() {
    }

    /** What {@link #load} returns; {@code tokenizer} is null when the checkpoint has none. */
    public record Loaded(VlmConfig config, VisionLanguageModel model, WordTokenizer tokenizer) {
    }

    /**
     * Writes config, tokenizer (may be null; otherwise it must be a {@link WordTokenizer}) and
     * weights into {@code dir} (created if needed, existing files replaced).
     */
    public static void save(Path dir, VisionLanguageModel model, Tokenizer tokenizer) throws IOException {
        Files.createDirectories(dir);
        writeAtomically(dir.resolve(CONFIG_FILE), model.config().toJson().getBytes(StandardCharsets.UTF_8));
        if (tokenizer != null) {
            if (!(tokenizer instanceof WordTokenizer word)) {
                throw new IllegalArgumentException("tokenizer must be a WordTokenizer to be saved, got "
                        + tokenizer.getClass().getName());
            }
            word.save(dir.resolve(TOKENIZER_FILE));
        }
        saveWeights(dir.resolve(WEIGHTS_FILE), model);
    }

    /** Reads a directory written by {@link #save}: a new model (CPU) with the saved weights. */
    public static Loaded load(Path dir) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        VlmConfig config;
        try {
            config = VlmConfig.fromJson(Files.readString(configFile, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(configFile, "missing", e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(configFile, e.getMessage(), e);
        }
        Path tokenizerFile = dir.resolve(TOKENIZER_FILE);
        WordTokenizer tokenizer = Files.exists(tokenizerFile) ? WordTokenizer.load(tokenizerFile) : null;
        if (tokenizer != null && tokenizer.vocabSize() != config.vocabSize()) {
            throw new CheckpointException(tokenizerFile, "has " + tokenizer.vocabSize()
                    + " tokens but the config's vocabSize is " + config.vocabSize());
        }
        VisionLanguageModel model = new VisionLanguageModel(config);
        loadWeights(dir.resolve(WEIGHTS_FILE), model);
        return new Loaded(config, model, tokenizer);
    }

    /** Writes every parameter of {@code model} to {@code file} (atomically). */
    public static void saveWeights(Path file, VisionLanguageModel model) throws IOException {
        try (OutputArchive archive = new OutputArchive()) {
            for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
                Tensor value = e.getValue().detach().cpu();
                if (!value.isfinite().all().item_bool()) {
                    throw new CheckpointException(file, "refusing to save tensor " + e.getKey()
                            + ": it holds NaN or infinite values (the training diverged)");
                }
                archive.write(e.getKey(), value);
            }
            ArchiveFiles.save(archive, file);
        }
    }

    /**
     * Copies the weights in {@code file} into {@code model}. Every parameter must be present with
     * the same shape, and the file must hold nothing else.
     */
    public static void loadWeights(Path file, VisionLanguageModel model) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "missing");
        }
        InputArchive archive = new InputArchive();
        try {
            ArchiveFiles.load(archive, file);
        } catch (DamagedFileException e) {
            throw new CheckpointException(file, e.problem(), e);
        }
        Map<String, Tensor> parameters = model.namedParameters();
        Set<String> stored = new HashSet<>();
        var keys = archive.keys();
        for (long i = 0; i < keys.size(); i++) {
            stored.add(keys.get(i).getString());
        }
        Set<String> missing = new TreeSet<>(parameters.keySet());
        missing.removeAll(stored);
        Set<String> unexpected = new TreeSet<>(stored);
        unexpected.removeAll(parameters.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new CheckpointException(file, "does not match the model: missing " + missing + ", unexpected " + unexpected);
        }
        try (NoGradGuard ignored = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
                Tensor value = new Tensor();
                try {
                    archive.read(e.getKey(), value);
                } catch (RuntimeException ex) {
                    throw new CheckpointException(file, "cannot read tensor " + e.getKey() + " (corrupt?): "
                            + ArchiveFiles.firstLine(ex.getMessage()), ex);
                }
                long[] expected = Tensors.shape(e.getValue()), actual = Tensors.shape(value);
                if (!Arrays.equals(expected, actual)) {
                    throw new CheckpointException(file, "tensor " + e.getKey() + " has shape " + Arrays.toString(actual)
                            + ", the model expects " + Arrays.toString(expected));
                }
                if (!value.isfinite().all().item_bool()) {
                    throw new CheckpointException(file, "tensor " + e.getKey() + " holds NaN or infinite values");
                }
                e.getValue().copy_(value);
            }
        }
    }

    /** Writes {@code bytes} to {@code file} atomically. */
    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        AtomicFiles.write(file, bytes);
    }
}
