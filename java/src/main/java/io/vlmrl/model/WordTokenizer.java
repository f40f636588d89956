package io.vlmrl.model;

import io.vlmrl.policy.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A word-level tokenizer built from a word list, with a character fallback.
 *
 * <p>Encoding lower-cases the text and splits it on whitespace and punctuation. A run of letters and
 * digits that is in the vocabulary becomes one token; otherwise it is spelled with single characters:
 * the first as a word-start character ({@code "z"}), the rest as continuation characters
 * ({@code "##e"}), so that decoding knows where words begin. Words of the list that contain
 * punctuation (for instance {@code "<answer>"}) and the special tokens written out (so
 * {@code "<image>"} in a prompt becomes the image placeholder) are matched first, longest match
 * wins. A character with no token becomes {@code <unk>}.
 *
 * <p>Decoding puts one space between words and none before punctuation, so
 * {@code decode(encode(s))} returns {@code s} in canonical spacing: {@code "how many red triangles?"}
 * round-trips exactly, {@code "How  many ?"} comes back as {@code "how many?"}.
 *
 * <p>Ids: {@code <pad>}=0, {@code <bos>}=1, {@code <eos>}=2, {@code <image>}=3, {@code <unk>}=4, then
 * the characters a-z and 0-9, their continuation forms, the punctuation characters, and the words of
 * the list. The whole token list is serialised ({@link #toJson()}) and saved with checkpoints.
 */
public final class WordTokenizer implements Tokenizer {

    public static final String PAD = "<pad>";
    public static final String BOS = "<bos>";
    public static final String EOS = "<eos>";
    public static final String IMAGE = "<image>";
    public static final String UNK = "<unk>";
    /** Prefix of continuation characters (characters after the first of a spelled-out word). */
    public static final String CONTINUATION = "##";
    /** Punctuation characters that always have a token. */
    public static final String PUNCTUATION = ".,!?;:'\"()[]{}<>/\\-+*=%&#@_$|~^`";
    /** Punctuation after which the next word gets a space. */
    private static final String SPACE_AFTER = ".,!?;:)]}";
    private static final String TYPE = "word";

    private enum Kind { SPECIAL, WORD, CONTINUATION, PUNCTUATION, SYMBOL }

    private final List<String> tokens;
    private final Map<String, Integer> ids;
    private final Kind[] kinds;
    /** Special tokens and vocabulary words containing a character outside [a-z0-9], longest first. */
    private final List<String> symbolWords;
    private final int padId, bosId, eosId, imageId, unkId;

    private WordTokenizer(List<String> tokens) {
        this.tokens = List.copyOf(tokens);
        this.ids = new HashMap<>();
        for (int i = 0; i < this.tokens.size(); i++) {
            String token = this.tokens.get(i);
            if (token == null || token.isEmpty()) {
                throw new IllegalArgumentException("token " + i + " must be a non-empty string, got " + token);
            }
            if (ids.putIfAbsent(token, i) != null) {
                throw new IllegalArgumentException("token \"" + token + "\" appears twice (ids " + ids.get(token) + " and " + i + ")");
            }
        }
        this.padId = required(PAD);
        this.bosId = required(BOS);
        this.eosId = required(EOS);
        this.imageId = required(IMAGE);
        this.unkId = required(UNK);
        this.kinds = new Kind[this.tokens.size()];
        List<String> symbols = new ArrayList<>();
        for (int i = 0; i < kinds.length; i++) {
            kinds[i] = kindOf(this.tokens.get(i));
            if (kinds[i] == Kind.SYMBOL || kinds[i] == Kind.SPECIAL) {
                symbols.add(this.tokens.get(i));
            }
        }
        symbols.sort((a, b) -> Integer.compare(b.length(), a.length()));
        this.symbolWords = Collections.unmodifiableList(symbols);
    }

    /**
     * The built-in vocabulary plus {@code words} (lower-cased, duplicates dropped). A word must not
     * contain whitespace or start with {@value #CONTINUATION}.
     */
    public static WordTokenizer fromWords(Collection<String> words) {
        List<String> tokens = new ArrayList<>(List.of(PAD, BOS, EOS, IMAGE, UNK));
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (char c : alphabet.toCharArray()) {
            tokens.add(String.valueOf(c));
        }
        for (char c : alphabet.toCharArray()) {
            tokens.add(CONTINUATION + c);
        }
        for (char c : PUNCTUATION.toCharArray()) {
            tokens.add(String.valueOf(c));
        }
        java.util.Set<String> seen = new java.util.HashSet<>(tokens);
        for (String word : words) {
            if (word == null || word.isBlank() || word.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("words must be non-empty and contain no whitespace, got \"" + word + "\"");
            }
            String lower = word.toLowerCase(Locale.ROOT);
            if (lower.startsWith(CONTINUATION)) {
                throw new IllegalArgumentException("words must not start with \"" + CONTINUATION + "\", got \"" + word + "\"");
            }
            if (seen.add(lower)) {
                tokens.add(lower);
            }
        }
        return new WordTokenizer(tokens);
    }

    /**
     * A tokenizer for a user's data: the base tokens of {@link #fromWords}, every word (a run of
     * letters a-z and digits, lower-cased) of {@code wordTexts} in order of first appearance, and a
     * token for every other character of {@code wordTexts} and {@code charTexts} (non-ASCII letters,
     * symbols), so that all those texts encode without {@code <unk>}. Pass the training set's
     * questions, answers and solutions as {@code wordTexts} and the held-out set's as
     * {@code charTexts}: its words are then spelled, never unknown.
     */
    public static WordTokenizer fromTexts(Collection<String> wordTexts, Collection<String> charTexts) {
        java.util.LinkedHashSet<String> words = new java.util.LinkedHashSet<>();
        java.util.LinkedHashSet<String> symbols = new java.util.LinkedHashSet<>();
        for (String text : wordTexts) {
            String lower = text.toLowerCase(Locale.ROOT);
            int i = 0;
            while (i < lower.length()) {
                int end = i;
                while (end < lower.length() && isAlphanumeric(lower.charAt(end))) end++;
                if (end > i) {
                    words.add(lower.substring(i, end));
                    i = end;
                } else {
                    char c = lower.charAt(i++);
                    if (!Character.isWhitespace(c)) symbols.add(String.valueOf(c));
                }
            }
        }
        for (String text : charTexts) {
            for (char c : text.toLowerCase(Locale.ROOT).toCharArray()) {
                if (!Character.isWhitespace(c) && !isAlphanumeric(c)) symbols.add(String.valueOf(c));
            }
        }
        WordTokenizer base = fromWords(words);
        List<String> tokens = new ArrayList<>(base.tokens);
        for (String symbol : symbols) {
            if (!base.ids.containsKey(symbol)) tokens.add(symbol);
        }
        return new WordTokenizer(tokens);
    }

    /**
     * The index of the first character of {@code text} that has no token (it would become
     * {@code <unk>}), or -1 when the whole text encodes.
     */
    public int unknownCharacterIndex(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c) && !isAlphanumeric(c) && symbolAt(s, i) == null && !ids.containsKey(String.valueOf(c))) {
                return i;
            }
        }
        return -1;
    }

    /** Rebuilds a tokenizer from its complete token list (id order), as written by {@link #tokens()}. */
    public static WordTokenizer fromTokens(List<String> tokens) {
        return new WordTokenizer(tokens);
    }

    /** All tokens in id order. */
    public List<String> tokens() {
        return tokens;
    }

    /** The id of {@code token}; IllegalArgumentException if it is not in the vocabulary. */
    public int tokenId(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalArgumentException("token \"" + token + "\" is not in the vocabulary");
        }
        return id;
    }

    /** Whether {@code token} is one token of the vocabulary. */
    public boolean contains(String token) {
        return ids.containsKey(token);
    }

    @Override
    public int[] encode(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        List<Integer> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            String symbol = symbolAt(s, i);
            if (symbol != null) {
                out.add(ids.get(symbol));
                i += symbol.length();
            } else if (isAlphanumeric(c)) {
                int end = i;
                while (end < s.length() && isAlphanumeric(s.charAt(end))) {
                    end++;
                }
                spellWord(s.substring(i, end), out);
                i = end;
            } else {
                out.add(ids.getOrDefault(String.valueOf(c), unkId));
                i++;
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private String symbolAt(String s, int i) {
        for (String symbol : symbolWords) {
            if (s.startsWith(symbol, i)) {
                return symbol;
            }
        }
        return null;
    }

    private void spellWord(String word, List<Integer> out) {
        Integer id = ids.get(word);
        if (id != null) {
            out.add(id);
            return;
        }
        out.add(ids.get(String.valueOf(word.charAt(0))));
        for (int k = 1; k < word.length(); k++) {
            out.add(ids.get(CONTINUATION + word.charAt(k)));
        }
    }

    @Override
    public String decode(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        Kind previous = null;
        String previousText = null;
        for (int id : tokenIds) {
            checkId(id);
            if (id == padId || id == bosId || id == eosId) {
                continue;
            }
            Kind kind = kinds[id];
            String text = tokens.get(id);
            if (previous != null && spaceBetween(previous, previousText, kind)) {
                sb.append(' ');
            }
            sb.append(kind == Kind.CONTINUATION ? text.substring(CONTINUATION.length()) : text);
            previous = kind;
            previousText = text;
        }
        return sb.toString();
    }

    private static boolean spaceBetween(Kind previous, String previousText, Kind next) {
        if (next != Kind.WORD && next != Kind.SPECIAL) {
            return false; // continuation characters and punctuation attach to the left
        }
        return switch (previous) {
            case WORD, CONTINUATION, SPECIAL -> true;
            case PUNCTUATION -> SPACE_AFTER.contains(previousText);
            case SYMBOL -> false;
        };
    }

    @Override
    public int vocabSize() {
        return tokens.size();
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int imagePlaceholderId() {
        return imageId;
    }

    /** Id of {@code <unk>}, produced for characters that have no token. */
    public int unkId() {
        return unkId;
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return tokens.get(id);
    }

    /** {@code {"type": "word", "tokens": [...]}}. */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("type", TYPE);
        ArrayNode array = root.putArray("tokens");
        tokens.forEach(array::add);
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the token list", e);
        }
    }

    /** Parses the output of {@link #toJson()}. */
    public static WordTokenizer fromJson(String json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("tokenizer JSON is malformed: " + e.getMessage(), e);
        }
        if (root == null || !TYPE.equals(root.path("type").asText()) || !root.path("tokens").isArray()) {
            throw new IllegalArgumentException("tokenizer JSON must be {\"type\": \"word\", \"tokens\": [...]}");
        }
        List<String> list = new ArrayList<>();
        root.get("tokens").forEach(node -> list.add(node.asText()));
        return new WordTokenizer(list);
    }

    public void save(Path file) throws IOException {
        Checkpoint.writeAtomically(file, toJson().getBytes(StandardCharsets.UTF_8));
    }

    public static WordTokenizer load(Path file) throws IOException {
        try {
            return fromJson(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, e.getMessage(), e);
        }
    }

    private int required(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalArgumentException("the token list must contain " + token);
        }
        return id;
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.size()) {
            throw new IllegalArgumentException("token id must be in [0, " + tokens.size() + "), got " + id);
        }
    }

    private static boolean isAlphanumeric(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    private static Kind kindOf(String token) {
        if (token.equals(PAD) || token.equals(BOS) || token.equals(EOS) || token.equals(IMAGE) || token.equals(UNK)) {
            return Kind.SPECIAL;
        }
        if (token.startsWith(CONTINUATION) && token.length() > CONTINUATION.length()) {
            return Kind.CONTINUATION;
        }
        if (token.chars().allMatch(c -> isAlphanumeric((char) c))) {
            return Kind.WORD;
        }
        return token.length() == 1 ? Kind.PUNCTUATION : Kind.SYMBOL;
    }

    @Override
    public String toString() {
        return "WordTokenizer(" + tokens.size() + " tokens)";
    }
}
