package io.vlmrl.hf;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.policy.Tokenizer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face tokenizer ({@code tokenizer.json}) behind the {@link Tokenizer} interface, run by
 * the Rust {@code tokenizers} library through DJL ({@code ai.djl.huggingface:tokenizers}, whose jar
 * carries the native library for linux-x86_64, so nothing is downloaded).
 *
 * <p>Loaded from a model directory: {@code tokenizer.json} (required) and, when present,
 * {@code tokenizer_config.json}, {@code generation_config.json} and {@code config.json}, from which
 * all special ids come (none is hard-coded):
 * <ul>
 *   <li>{@link #padId()}: {@code tokenizer_config.pad_token}, else {@code generation_config} then
 *       {@code config} {@code pad_token_id};</li>
 *   <li>{@link #bosId()}: {@code tokenizer_config.bos_token}, else {@code bos_token_id} of
 *       {@code generation_config} then {@code config};</li>
 *   <li>{@link #eosIds()}: the union, in this order, of {@code generation_config.eos_token_id} (an
 *       id or a list: Qwen2.5-VL stops at {@code <|im_end|>} and {@code <|endoftext|>}),
 *       {@code tokenizer_config.eos_token} and {@code config.eos_token_id}; {@link #eosId()} is the
 *       first;</li>
 *   <li>{@link #imagePlaceholderId()} ({@code <|image_pad|>}): {@code config.image_token_id}, else
 *       {@code tokenizer_config.image_token}; {@link #visionStartId()}, {@link #visionEndId()} and
 *       {@link #videoPadId()} from {@code config}'s {@code vision_start_token_id},
 *       {@code vision_end_token_id} and {@code video_token_id};</li>
 * </ul>
 * An id that none of the files gives is -1. Config keys are looked up at the top level and then in
 * {@code text_config}.
 *
 * <p>{@link #encode} adds no special tokens (special tokens written in the text, such as
 * {@code <|im_start|>}, are still recognised, as in transformers), and truncation and padding are
 * off: DJL's defaults would truncate at 512 tokens. {@link #decode} skips special tokens, like
 * transformers' {@code decode(ids, skip_special_tokens=True)}, and applies
 * {@code clean_up_tokenization_spaces} when the config asks for it.
 *
 * <p>DJL's usage telemetry is turned off and its offline mode on (system properties
 * {@code OPT_OUT_TRACKING=true} and {@code ai.djl.offline=true}, set before DJL loads unless the
 * caller set them): offline mode also makes DJL take the CPU native library from its jar instead of
 * downloading a CUDA build on GPU machines. The tokenizer holds native memory: {@link #close()} it.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
    public static final String GENERATION_CONFIG_FILE = "generation_config.json";
    public static final String MODEL_CONFIG_FILE = "config.json";

    static {
        disableDjlNetworkUse();
    }

    private final Path dir;
    private final HuggingFaceTokenizer tokenizer;
    /** id -> token text, {@code null} for ids without a token (padding rows of the embedding). */
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final int vocabSize;
    private final int padId;
    private final int bosId;
    private final Set<Integer> eosIds;
    private final int imagePadId;
    private final int visionStartId;
    private final int visionEndId;
    private final int videoPadId;
    private final boolean cleanUpSpaces;

    private HfTokenizer(Path dir) throws IOException {
        this.dir = dir;
        Path tokenizerFile = dir.resolve(TOKENIZER_FILE);
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new IOException("tokenizer file " + tokenizerFile + " does not exist");
        }
        byte[] json = Files.readAllBytes(tokenizerFile);
        JsonNode root = readJson(tokenizerFile, json);
        this.ids = new HashMap<>();
        readVocabulary(tokenizerFile, root, ids);
        int maxId = ids.values().stream().mapToInt(Integer::intValue).max()
                .orElseThrow(() -> new IOException(tokenizerFile + " has an empty vocabulary"));
        JsonNode tokConfig = optionalJson(dir.resolve(TOKENIZER_CONFIG_FILE));
        JsonNode genConfig = optionalJson(dir.resolve(GENERATION_CONFIG_FILE));
        JsonNode modelConfig = optionalJson(dir.resolve(MODEL_CONFIG_FILE));

        long configVocab = configInt(modelConfig, "vocab_size");
        if (configVocab >= 0 && configVocab <= maxId) {
            throw new IOException(dir.resolve(MODEL_CONFIG_FILE) + ": vocab_size " + configVocab + " must exceed the largest token id "
                    + maxId + " of " + tokenizerFile);
        }
        this.vocabSize = configVocab >= 0 ? Math.toIntExact(configVocab) : maxId + 1;
        this.tokens = new String[vocabSize];
        ids.forEach((token, id) -> tokens[id] = token);

        this.padId = firstOf(tokenId(tokConfig, "pad_token"), configInt(genConfig, "pad_token_id"), configInt(modelConfig, "pad_token_id"));
        this.bosId = firstOf(tokenId(tokConfig, "bos_token"), configInt(genConfig, "bos_token_id"), configInt(modelConfig, "bos_token_id"));
        Set<Integer> eos = new LinkedHashSet<>();
        addIds(eos, genConfig, "eos_token_id");
        if (tokenId(tokConfig, "eos_token") >= 0) {
            eos.add(tokenId(tokConfig, "eos_token"));
        }
        addIds(eos, modelConfig, "eos_token_id");
        this.eosIds = Collections.unmodifiableSet(eos);
        this.imagePadId = firstOf(configInt(modelConfig, "image_token_id"), tokenId(tokConfig, "image_token"), -1);
        this.visionStartId = firstOf(configInt(modelConfig, "vision_start_token_id"), -1, -1);
        this.visionEndId = firstOf(configInt(modelConfig, "vision_end_token_id"), -1, -1);
        this.videoPadId = firstOf(configInt(modelConfig, "video_token_id"), tokenId(tokConfig, "video_token"), -1);
        for (Map.Entry<String, Integer> special : Map.of("pad", padId, "bos", bosId, "image pad", imagePadId,
                "vision start", visionStartId, "vision end", visionEndId, "video pad", videoPadId).entrySet()) {
            checkId(special.getKey(), special.getValue());
        }
        for (int id : eosIds) {
            checkId("eos", id);
        }
        this.cleanUpSpaces = tokConfig != null && tokConfig.path("clean_up_tokenization_spaces").asBoolean(false);

        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        options.put("withOverflowingTokens", "false");
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (RuntimeException e) {
            throw new IOException("the tokenizers library rejected " + tokenizerFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the tokenizer of a Hugging Face model directory (see the class comment for the files).
     *
     * @throws IOException if {@code tokenizer.json} is missing or invalid, or a config names a token
     *     that is not in the vocabulary
     */
    public static HfTokenizer load(Path modelDir) throws IOException {
        if (!Files.isDirectory(modelDir)) {
            throw new IOException("model directory " + modelDir + " does not exist");
        }
        return new HfTokenizer(modelDir);
    }

    /**
     * Sets DJL's telemetry opt-out ({@code OPT_OUT_TRACKING}) and offline mode
     * ({@code ai.djl.offline}) system properties unless already set. Runs when this class loads,
     * before DJL reads them; public for code that uses DJL without this class.
     */
    public static void disableDjlNetworkUse() {
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    @Override
    public int[] encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
        long[] out = tokenizer.encode(text, false, false).getIds();
        int[] result = new int[out.length];
        for (int i = 0; i < out.length; i++) {
            result[i] = Math.toIntExact(out[i]);
        }
        return result;
    }

    /** Text of {@code ids}, skipping special tokens (pad, BOS, EOS, image pads, ...). */
    @Override
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /** Text of {@code ids}; special tokens are kept when {@code skipSpecialTokens} is false. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("ids[" + i + "] = " + ids[i] + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
            longs[i] = ids[i];
        }
        String text = tokenizer.decode(longs, skipSpecialTokens);
        return cleanUpSpaces ? cleanUpTokenization(text) : text;
    }

    /** transformers' {@code clean_up_tokenization}: drops the space before punctuation and contractions. */
    static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    /**
     * The model's id space: {@code config.json}'s {@code vocab_size} when present (it may exceed the
     * tokenizer's ids: Qwen pads its embedding to 151936 rows), else the largest token id + 1.
     */
    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    /** The first of {@link #eosIds()}, or -1 when there is none. */
    @Override
    public int eosId() {
        return eosIds.isEmpty() ? -1 : eosIds.iterator().next();
    }

    /** Every id that ends generation, in the order described in the class comment. */
    public Set<Integer> eosIds() {
        return eosIds;
    }

    /** {@code <|image_pad|>}: one per image in a chat-rendered prompt, expanded to the image's tokens. */
    @Override
    public int imagePlaceholderId() {
        return imagePadId;
    }

    /** {@code <|vision_start|>}, or -1. */
    public int visionStartId() {
        return visionStartId;
    }

    /** {@code <|vision_end|>}, or -1. */
    public int visionEndId() {
        return visionEndId;
    }

    /** {@code <|video_pad|>}, or -1. */
    public int videoPadId() {
        return videoPadId;
    }

    /**
     * The token string of {@code id} as stored in {@code tokenizer.json} (byte-level tokens show
     * their byte alphabet, e.g. {@code "Ġare"}), or {@code "<unused:ID>"} for an id of the model's
     * vocabulary that has no token.
     */
    @Override
    public String tokenText(int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary 0.." + (vocabSize - 1));
        }
        return tokens[id] == null ? "<unused:" + id + ">" : tokens[id];
    }

    /** The id of the token string {@code token} (vocabulary or added token). */
    public int tokenId(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalArgumentException("token \"" + token + "\" is not in " + dir.resolve(TOKENIZER_FILE));
        }
        return id;
    }

    /** The model directory this tokenizer was loaded from. */
    public Path directory() {
        return dir;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static void readVocabulary(Path file, JsonNode root, Map<String, Integer> ids) throws IOException {
        JsonNode model = root.path("model");
        JsonNode vocab = model.path("vocab");
        if (vocab.isObject()) {
            // BPE, WordLevel, WordPiece: token -> id.
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                    throw new IOException(file + ": model.vocab[\"" + e.getKey() + "\"] must be a non-negative id, got " + e.getValue());
                }
                ids.put(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab.isArray()) {
            // Unigram: [[token, score], ...], the id is the position.
            for (int i = 0; i < vocab.size(); i++) {
                ids.put(vocab.get(i).path(0).asText(), i);
            }
        } else {
            throw new IOException(file + ": model.vocab must be an object or a list, got " + (vocab.isMissingNode() ? "nothing" : vocab.getNodeType()));
        }
        for (JsonNode added : root.path("added_tokens")) {
            if (!added.path("id").canConvertToInt() || !added.path("content").isTextual()) {
                throw new IOException(file + ": added_tokens entries need an id and a content, got " + added);
            }
            ids.put(added.get("content").asText(), added.get("id").asInt());
        }
    }

    private static JsonNode readJson(Path file, byte[] bytes) throws IOException {
        try {
            JsonNode node = new ObjectMapper().readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new IOException(file + " must hold a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static JsonNode optionalJson(Path file) throws IOException {
        return Files.isRegularFile(file) ? readJson(file, Files.readAllBytes(file)) : null;
    }

    /** An integer key of a config (top level, then {@code text_config}); -1 when absent or null. */
    private static long configInt(JsonNode config, String key) {
        if (config == null) {
            return -1;
        }
        JsonNode node = config.get(key);
        if ((node == null || node.isNull()) && config.path("text_config").isObject()) {
            node = config.get("text_config").get(key);
        }
        return node != null && node.isIntegralNumber() ? node.asLong() : -1;
    }

    /** Adds the id or list of ids under {@code key}. */
    private static void addIds(Set<Integer> out, JsonNode config, String key) {
        if (config == null) {
            return;
        }
        JsonNode node = config.get(key);
        if ((node == null || node.isNull()) && config.path("text_config").isObject()) {
            node = config.get("text_config").get(key);
        }
        if (node == null) {
            return;
        }
        if (node.isArray()) {
            for (JsonNode n : node) {
                out.add(n.asInt());
            }
        } else if (node.isIntegralNumber()) {
            out.add(node.asInt());
        }
    }

    /**
     * The id of the token a {@code tokenizer_config.json} key names: a string, or an object with
     * {@code content} (the serialised {@code AddedToken}); -1 when absent or null.
     */
    private int tokenId(JsonNode tokConfig, String key) throws IOException {
        if (tokConfig == null) {
            return -1;
        }
        JsonNode node = tokConfig.get(key);
        if (node != null && node.isObject()) {
            node = node.get("content");
        }
        if (node == null || !node.isTextual()) {
            return -1;
        }
        Integer id = ids.get(node.asText());
        if (id == null) {
            throw new IOException(dir.resolve(TOKENIZER_CONFIG_FILE) + ": " + key + " \"" + node.asText() + "\" is not a token of "
                    + dir.resolve(TOKENIZER_FILE));
        }
        return id;
    }

    private static int firstOf(long a, long b, long c) {
        return Math.toIntExact(a >= 0 ? a : b >= 0 ? b : c);
    }

    private void checkId(String what, int id) throws IOException {
        if (id >= vocabSize) {
            throw new IOException(dir + ": the " + what + " id " + id + " is outside the vocabulary 0.." + (vocabSize - 1));
        }
    }

    @Override
    public String toString() {
        return "HfTokenizer[" + dir + ", vocab " + vocabSize + ", pad " + padId + ", bos " + bosId + ", eos " + eosIds
                + ", image pad " + imagePadId + "]";
    }

    /** The number of tokens with a string (vocabulary and added tokens). */
    public int tokenCount() {
        return (int) Arrays.stream(tokens).filter(t -> t != null).count();
    }
}
