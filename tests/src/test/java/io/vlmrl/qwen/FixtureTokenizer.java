package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a Hugging Face {@code tokenizer.json} and {@code tokenizer_config.json} for the tiny
 * Qwen2.5-VL fixture, whose 1024-id vocabulary has no tokenizer of its own.
 *
 * <p>The tokenizer is built like the real Qwen2 one: NFC normaliser, Qwen's pre-tokenizer split
 * regex followed by the byte-level mapping, a byte-level BPE model and decoder, and the 22 added
 * tokens {@code <|endoftext|>} .. {@code <|file_sep|>} at the fixture's ids 1000..1021 (special
 * exactly where Qwen2.5's are: up to {@code <|video_pad|>}). Its vocabulary is derived from
 * {@code reference.json}'s {@code token_map}, not written by hand:
 * <ul>
 *   <li>every text piece of {@code text_pieces_real_ids} is split with Qwen's regex; each word
 *       (byte-level encoded, e.g. {@code "Ġhelpful"}) becomes a whole-word token with the id
 *       {@code real % 1000}, the fixture's mapping;</li>
 *   <li>the 256 byte tokens sit at their real Qwen ids 0..255 (Qwen's ids 0..255 are the byte
 *       alphabet in GPT-2's {@code bytes_to_unicode} order), except where a word token took that
 *       id ({@code assistant} 77091 -> 91, {@code " image"} 2168 -> 168, {@code " random"} 4194 ->
 *       194): those byte tokens move to the lowest free ids;</li>
 *   <li>the other ids below the first added token (1000) hold filler tokens
 *       ({@code "\u27e8unused300\u27e9"}) that no text encodes to: the tokenizers library numbers
 *       added tokens from the model vocabulary's size on, so it must fill 0..999;</li>
 *   <li>the model has no merges and {@code ignore_merges: true}: a pre-tokenized word that is in the
 *       vocabulary becomes its token, any other word is spelled in byte tokens. So encoding the
 *       fixture's prompt texts gives exactly the fixture's {@code input_ids}, and any text
 *       round-trips.</li>
 * </ul>
 * The files are written into a model directory ({@link #write}); {@link #copyModelDir} makes a
 * complete one (the fixture's {@code float32/} files plus these) for tests that load a model and
 * its tokenizer together.
 */
public final class FixtureTokenizer {

    /** Qwen2's pre-tokenizer split pattern (from its {@code tokenizer.json}). */
    public static final String QWEN2_SPLIT_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The {@code chat_template} of the Qwen2.5-VL instruct checkpoints, verbatim. */
    public static final String QWEN25_VL_CHAT_TEMPLATE = "{% set image_count = namespace(value=0) %}"
            + "{% set video_count = namespace(value=0) %}{% for message in messages %}"
            + "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
            + "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
            + "{% else %}{% for content in message['content'] %}"
            + "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
            + "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
            + "<|vision_start|><|image_pad|><|vision_end|>"
            + "{% elif content['type'] == 'video' or 'video' in content %}"
            + "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
            + "<|vision_start|><|video_pad|><|vision_end|>"
            + "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /**
     * Brackets of the filler tokens of unused ids: characters outside the byte-level alphabet
     * (which ends at U+0143), so that no pre-tokenized text can ever equal a filler.
     */
    static final String UNUSED_OPEN = "\u27e8unused";
    static final String UNUSED_CLOSE = "\u27e9";
    /** First real id of Qwen2.5's added tokens ({@code <|endoftext|>}). */
    private static final int REAL_ADDED_BASE = 151643;
    /** Last real id of Qwen2.5's special added tokens ({@code <|video_pad|>}); later ones are not special. */
    private static final int REAL_LAST_SPECIAL = 151656;
    /** Ordinary real ids map to {@code real % FIXTURE_MODULUS}. */
    private static final int FIXTURE_MODULUS = 1000;
    /** The files of {@code float32/} that make a model directory. */
    private static final List<String> MODEL_FILES = List.of(
            "config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors");

    private FixtureTokenizer() {
    }

    /**
     * Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir} (created if
     * needed), derived from the fixture's {@code reference.json}.
     */
    public static void write(Path dir) throws IOException {
        JsonNode tokenMap = TinyFixture.reference().get("token_map");
        Files.createDirectories(dir);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(dir.resolve("tokenizer.json"), mapper.writeValueAsString(tokenizerJson(tokenMap, mapper)));
        Files.writeString(dir.resolve("tokenizer_config.json"), mapper.writeValueAsString(tokenizerConfig(tokenMap, mapper)));
    }

    /**
     * Copies the fixture's {@code float32/} model files ({@code config.json},
     * {@code generation_config.json}, {@code preprocessor_config.json}, {@code model.safetensors})
     * into {@code target} and {@link #write writes} the tokenizer files next to them.
     *
     * @return {@code target}
     */
    public static Path copyModelDir(Path target) throws IOException {
        Files.createDirectories(target);
        for (String name : MODEL_FILES) {
            Files.copy(TinyFixture.float32().resolve(name), target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        write(target);
        return target;
    }

    /** The byte-level alphabet: {@code alphabet[i]} is the character of byte {@code BYTE_ORDER[i]}. */
    static final int[] BYTE_ORDER = new int[256];
    /** {@code BYTE_CHAR[b]}: the character GPT-2's {@code bytes_to_unicode} gives byte {@code b}. */
    static final char[] BYTE_CHAR = new char[256];

    static {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        List<Integer> cs = new ArrayList<>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
                cs.add(256 + n);
                n++;
            }
        }
        for (int i = 0; i < 256; i++) {
            BYTE_ORDER[i] = bs.get(i);
            BYTE_CHAR[bs.get(i)] = (char) (int) cs.get(i);
        }
    }

    /** The byte-level form of {@code text}: one character per UTF-8 byte. */
    static String byteLevel(String text) {
        StringBuilder sb = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            sb.append(BYTE_CHAR[b & 0xFF]);
        }
        return sb.toString();
    }

    /** {@code text} split like Qwen2's pre-tokenizer (regex matches and the gaps between them). */
    static List<String> preTokenize(String text) {
        Matcher m = Pattern.compile(QWEN2_SPLIT_REGEX, Pattern.UNICODE_CHARACTER_CLASS).matcher(text);
        List<String> words = new ArrayList<>();
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                words.add(text.substring(last, m.start()));
            }
            words.add(m.group());
            last = m.end();
        }
        if (last < text.length()) {
            words.add(text.substring(last));
        }
        return words;
    }

    /** token -> id of the model vocabulary (words and bytes; added tokens are separate). */
    static Map<String, Integer> vocabulary(JsonNode tokenMap) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        Map<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tokenMap.get("text_pieces_real_ids").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> piece = it.next();
            List<String> words = preTokenize(piece.getKey());
            JsonNode ids = piece.getValue();
            if (words.size() != ids.size()) {
                throw new IllegalStateException("text piece \"" + piece.getKey() + "\" pre-tokenizes into " + words
                        + " but reference.json gives " + ids.size() + " real ids " + ids);
            }
            for (int i = 0; i < words.size(); i++) {
                int real = ids.get(i).asInt();
                if (real >= REAL_ADDED_BASE) {
                    throw new IllegalStateException("text piece \"" + piece.getKey() + "\" has the added-token id " + real);
                }
                put(vocab, byId, byteLevel(words.get(i)), real % FIXTURE_MODULUS);
            }
        }
        List<String> displaced = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            String token = String.valueOf(BYTE_CHAR[BYTE_ORDER[i]]);
            Integer had = vocab.get(token);
            if (had != null) {
                if (had != i) {
                    throw new IllegalStateException("byte token \"" + token + "\" is a text piece with id " + had + ", expected its byte id " + i);
                }
            } else if (byId.containsKey(i)) {
                displaced.add(token);
            } else {
                put(vocab, byId, token, i);
            }
        }
        // The tokenizers library gives added tokens the ids model_vocab_size, +1, ...: the model
        // vocabulary must fill 0 .. firstAdded-1 exactly, as Qwen's fills 0 .. 151642.
        int firstAdded = addedTokens(tokenMap).keySet().iterator().next();
        int free = 0;
        for (String token : displaced) {
            while (byId.containsKey(free)) {
                free++;
            }
            if (free >= firstAdded) {
                throw new IllegalStateException("no free id below " + firstAdded + " for byte token \"" + token + "\"");
            }
            put(vocab, byId, token, free);
        }
        for (int id = 0; id < firstAdded; id++) {
            if (!byId.containsKey(id)) {
                put(vocab, byId, UNUSED_OPEN + id + UNUSED_CLOSE, id);
            }
        }
        if (byId.size() != firstAdded || byId.keySet().stream().anyMatch(id -> id >= firstAdded)) {
            throw new IllegalStateException("vocabulary must hold exactly the ids 0.." + (firstAdded - 1) + ", got " + byId.size()
                    + " ids up to " + ((TreeMap<Integer, String>) byId).lastKey());
        }
        return vocab;
    }

    private static void put(Map<String, Integer> vocab, Map<Integer, String> byId, String token, int id) {
        Integer had = vocab.get(token);
        if (had != null && had != id) {
            throw new IllegalStateException("token \"" + token + "\" maps to both " + had + " and " + id);
        }
        String other = byId.get(id);
        if (other != null && !other.equals(token)) {
            throw new IllegalStateException("id " + id + " is wanted by both \"" + other + "\" and \"" + token + "\"");
        }
        vocab.put(token, id);
        byId.put(id, token);
    }

    /** name -> {real id, fixture id} of the added tokens, in fixture-id order. */
    private static Map<Integer, String> addedTokens(JsonNode tokenMap) {
        Map<Integer, String> added = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tokenMap.get("special_tokens").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            added.put(e.getValue().get(1).asInt(), e.getKey());
        }
        return added;
    }

    private static boolean isSpecial(JsonNode tokenMap, String name) {
        return tokenMap.get("special_tokens").get(name).get(0).asInt() <= REAL_LAST_SPECIAL;
    }

    private static ObjectNode tokenizerJson(JsonNode tokenMap, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (Map.Entry<Integer, String> e : addedTokens(tokenMap).entrySet()) {
            ObjectNode t = added.addObject();
            t.put("id", e.getKey());
            t.put("content", e.getValue());
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", isSpecial(tokenMap, e.getValue()));
        }
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        ObjectNode split = pres.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", QWEN2_SPLIT_REGEX);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        byteLevelNode(pres.addObject());
        byteLevelNode(root.putObject("post_processor"));
        byteLevelNode(root.putObject("decoder"));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", true);
        ObjectNode vocab = model.putObject("vocab");
        Map<Integer, String> byId = new TreeMap<>();
        vocabulary(tokenMap).forEach((token, id) -> byId.put(id, token));
        byId.forEach((id, token) -> vocab.put(token, id));
        model.putArray("merges");
        return root;
    }

    private static void byteLevelNode(ObjectNode node) {
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", false);
        node.put("trim_offsets", false);
        node.put("use_regex", false);
    }

    private static ObjectNode tokenizerConfig(JsonNode tokenMap, ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        root.put("add_bos_token", false);
        root.put("add_prefix_space", false);
        ObjectNode decoder = root.putObject("added_tokens_decoder");
        ArrayNode additional = mapper.createArrayNode();
        for (Map.Entry<Integer, String> e : addedTokens(tokenMap).entrySet()) {
            ObjectNode t = decoder.putObject(String.valueOf(e.getKey()));
            t.put("content", e.getValue());
            t.put("lstrip", false);
            t.put("normalized", false);
            t.put("rstrip", false);
            t.put("single_word", false);
            t.put("special", isSpecial(tokenMap, e.getValue()));
            // As in Qwen2.5: every special token but <|endoftext|> (the pad token) is "additional".
            if (isSpecial(tokenMap, e.getValue()) && tokenMap.get("special_tokens").get(e.getValue()).get(0).asInt() != REAL_ADDED_BASE) {
                additional.add(e.getValue());
            }
        }
        root.set("additional_special_tokens", additional);
        root.putNull("bos_token");
        root.put("chat_template", QWEN25_VL_CHAT_TEMPLATE);
        root.put("clean_up_tokenization_spaces", false);
        root.put("eos_token", "<|im_end|>");
        root.put("errors", "replace");
        root.put("model_max_length", 131072);
        root.put("pad_token", "<|endoftext|>");
        root.put("split_special_tokens", false);
        root.put("tokenizer_class", "Qwen2Tokenizer");
        root.putNull("unk_token");
        return root;
    }
}
