package io.vlmrl.qwen;

import io.vlmrl.hf.ChatTemplate;
import io.vlmrl.hf.HfTokenizer;
import io.vlmrl.hf.SafeDtype;
import io.vlmrl.hf.SafeTensors;
import io.vlmrl.hf.SafeTensorsDirectory;
import io.vlmrl.hf.SafeTensorsReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything of a Hugging Face Qwen2.5-VL / Qwen2-VL model directory except the weights: the
 * architecture ({@code config.json}), the tokenizer ({@code tokenizer.json} with
 * {@code tokenizer_config.json}, {@code generation_config.json}), the chat template, the image
 * processor ({@code preprocessor_config.json}), the dtype the weights are stored in, and the bytes
 * of the files a save copies unchanged ({@link #COMPANION_FILES}), so that a saved directory loads
 * in transformers or vLLM even after the source directory is gone.
 *
 * <p>Problems with the directory throw {@link IllegalArgumentException}s that name the file and
 * say what to do. Native memory: the tokenizer (Rust, through DJL). A policy and its frozen copies
 * share one instance; each holder {@link #retain()}s it and {@link #close()}s it once, and the
 * tokenizer is freed when the last holder closes.
 */
public final class QwenModelFiles implements AutoCloseable {

    public static final String CONFIG_FILE = "config.json";
    /**
     * Files copied unchanged when a model is saved, those the directory has: tokenizer,
     * generation defaults, image processor and chat template (config.json is rewritten with the
     * saved dtype, the weights are written anew).
     */
    public static final List<String> COMPANION_FILES = List.of(
            HfTokenizer.TOKENIZER_FILE, HfTokenizer.TOKENIZER_CONFIG_FILE, "special_tokens_map.json", "added_tokens.json",
            "vocab.json", "merges.txt", ChatTemplate.JSON_FILE, ChatTemplate.JINJA_FILE, QwenImageProcessor.CONFIG_FILE,
            "video_preprocessor_config.json", HfTokenizer.GENERATION_CONFIG_FILE);

    private final Path dir;
    private final QwenVlConfig config;
    private final HfTokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final QwenImageProcessor processor;
    private final SafeDtype storedDtype;
    private final Map<String, byte[]> companions;
    private final AtomicInteger holders = new AtomicInteger(1);

    private QwenModelFiles(Path dir, QwenVlConfig config, HfTokenizer tokenizer, ChatTemplate chatTemplate,
                           QwenImageProcessor processor, SafeDtype storedDtype, Map<String, byte[]> companions) {
        this.dir = dir;
        this.config = config;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.processor = processor;
        this.storedDtype = storedDtype;
        this.companions = companions;
    }

    /**
     * Whether {@code dir} looks like a Hugging Face model directory: {@code config.json} and
     * weights ({@code model.safetensors} or {@code model.safetensors.index.json}). Whether vlmrl
     * can load it ({@code model_type}, tokenizer) is {@link #read}'s to say.
     */
    public static boolean holdsModel(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG_FILE))
                && (Files.isRegularFile(dir.resolve(SafeTensorsDirectory.SINGLE_FILE))
                || Files.isRegularFile(dir.resolve(SafeTensorsDirectory.INDEX_FILE)));
    }

    /**
     * Reads the directory's files (not the weights' values: only their stored dtype).
     *
     * @throws IllegalArgumentException naming the file that is missing or wrong (config.json and
     *                                  its model_type, tokenizer.json, preprocessor_config.json, the
     *                                  chat template, a pad or end token, an image processor that does
     *                                  not fit the vision tower)
     */
    public static QwenModelFiles read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model directory " + dir + " does not exist");
        }
        require(dir, CONFIG_FILE);
        QwenVlConfig config = QwenVlConfig.load(dir); // IllegalArgumentException naming config.json
        require(dir, HfTokenizer.TOKENIZER_FILE);
        require(dir, QwenImageProcessor.CONFIG_FILE);
        QwenImageProcessor processor;
        ChatTemplate template;
        try {
            processor = QwenImageProcessor.fromModelDir(dir);
            template = ChatTemplate.fromModelDir(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        checkProcessorFitsVision(dir, processor, config.vision());
        SafeDtype stored = storedDtype(dir);
        Map<String, byte[]> companions = new LinkedHashMap<>();
        for (String name : COMPANION_FILES) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file)) {
                companions.put(name, Files.readAllBytes(file));
            }
        }
        HfTokenizer tokenizer;
        try {
            tokenizer = HfTokenizer.load(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        try {
            checkTokenizer(dir, tokenizer, config);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        return new QwenModelFiles(dir, config, tokenizer, template, processor, stored, Collections.unmodifiableMap(companions));
    }

    private static void require(Path dir, String name) {
        if (!Files.isRegularFile(dir.resolve(name))) {
            throw new IllegalArgumentException("expected " + name + " in " + dir + "; copy it from the model's hub repository");
        }
    }

    /** The processor must cut patches the way the vision tower embeds them. */
    private static void checkProcessorFitsVision(Path dir, QwenImageProcessor p, QwenVlConfig.Vision v) {
        int[][] pairs = {{p.patchSize(), v.patchSize()}, {p.temporalPatchSize(), v.temporalPatchSize()},
                {p.mergeSize(), v.spatialMergeSize()}};
        String[] names = {"patch_size", "temporal_patch_size", "merge_size (spatial_merge_size)"};
        for (int i = 0; i < pairs.length; i++) {
            if (pairs[i][0] != pairs[i][1]) {
                throw new IllegalArgumentException(dir.resolve(QwenImageProcessor.CONFIG_FILE) + ": " + names[i] + " is "
                        + pairs[i][0] + " but the vision tower of " + dir.resolve(CONFIG_FILE) + " expects " + pairs[i][1]);
            }
        }
    }

    private static void checkTokenizer(Path dir, HfTokenizer tokenizer, QwenVlConfig config) {
        if (tokenizer.eosIds().isEmpty()) {
            throw new IllegalArgumentException(dir + ": no end token: expected eos_token_id in generation_config.json or "
                    + "config.json, or eos_token in tokenizer_config.json");
        }
        if (tokenizer.padId() < 0) {
            throw new IllegalArgumentException(dir.resolve(HfTokenizer.TOKENIZER_CONFIG_FILE) + ": no pad_token (nor "
                    + "pad_token_id in generation_config.json or config.json); responses are padded with it");
        }
        if (tokenizer.imagePlaceholderId() != config.imageTokenId()) {
            throw new IllegalArgumentException(dir + ": the tokenizer's image token is " + tokenizer.imagePlaceholderId()
                    + " but config.json's image_token_id is " + config.imageTokenId());
        }
        if (tokenizer.vocabSize() > config.text().vocabSize()) {
            throw new IllegalArgumentException(dir.resolve(HfTokenizer.TOKENIZER_FILE) + ": ids go up to "
                    + (tokenizer.vocabSize() - 1) + " but the model's vocab_size is " + config.text().vocabSize());
        }
    }

    /** The dtype of the stored floating-point weights (the first one's: checkpoints use one dtype). */
    private static SafeDtype storedDtype(Path dir) throws IOException {
        try (SafeTensorsReader reader = SafeTensors.openModel(dir)) {
            for (String name : reader.names()) {
                SafeDtype d = reader.info(name).dtype();
                if (d.isFloatingPoint()) {
                    return d == SafeDtype.F64 ? SafeDtype.F32 : d;
                }
            }
        }
        throw new IllegalArgumentException(dir + ": the safetensors weights hold no floating-point tensor");
    }

    /** Adds a holder (a frozen copy sharing these files); returns this. */
    QwenModelFiles retain() {
        if (holders.getAndIncrement() <= 0) {
            throw new IllegalStateException("the files of " + dir + " are already closed");
        }
        return this;
    }

    /** The directory the files were read from. */
    public Path directory() {
        return dir;
    }

    public QwenVlConfig config() {
        return config;
    }

    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    public QwenImageProcessor processor() {
        return processor;
    }

    /** The dtype the checkpoint's weights are stored in (F32, BF16 or F16; F64 reads as F32). */
    public SafeDtype storedDtype() {
        return storedDtype;
    }

    /** File name → bytes of the {@link #COMPANION_FILES} the directory holds. */
    public Map<String, byte[]> companions() {
        return companions;
    }

    /** Drops one holder; the last one frees the tokenizer. */
    @Override
    public void close() {
        if (holders.decrementAndGet() == 0) {
            tokenizer.close();
        }
    }
}
