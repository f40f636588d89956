package io.vlmrl.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.qwen.FixtureTokenizer;
import io.vlmrl.qwen.TinyFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link HfTokenizer} on the tokenizer {@link FixtureTokenizer} writes for the tiny Qwen2.5-VL
 * fixture: the fixture's prompt texts encode to its {@code input_ids}, special ids come from the
 * config files, long texts are not truncated, and text round-trips.
 */
class HfTokenizerTest {

    private static final JsonNode REF = TinyFixture.reference();

    @TempDir
    static Path modelDir;
    private static HfTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        FixtureTokenizer.copyModelDir(modelDir);
        tokenizer = HfTokenizer.load(modelDir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static int special(String name) {
        return REF.get("token_map").get("special_tokens").get(name).get(1).asInt();
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void fixturePromptTextsEncodeToTheFixtureIds() {
        for (String name : List.of("case1", "case2")) {
            JsonNode c = REF.get("cases").get(name);
            int[] expected = ints(c.get("input_ids"));
            String text = c.get("prompt_text").asText() + c.get("continuation_text").asText();
            assertArrayEquals(expected, tokenizer.encode(text), name + " input_ids");
            assertArrayEquals(Arrays.copyOf(expected, c.get("prompt_len").asInt()), tokenizer.encode(c.get("prompt_text").asText()), name);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = REF.get("token_map").get("text_pieces_real_ids").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> piece = it.next();
            int[] expected = ints(piece.getValue());
            for (int i = 0; i < expected.length; i++) {
                expected[i] %= 1000;
            }
            assertArrayEquals(expected, tokenizer.encode(piece.getKey()), "piece \"" + piece.getKey() + "\"");
        }
    }

    @Test
    void specialIdsComeFromTheConfigFiles() throws IOException {
        JsonNode gen = new ObjectMapper().readTree(modelDir.resolve("generation_config.json").toFile());
        List<Integer> eos = new ArrayList<>();
        gen.get("eos_token_id").forEach(n -> eos.add(n.asInt()));
        assertEquals(List.of(special("<|im_end|>"), special("<|endoftext|>")), eos, "fixture generation_config");
        assertEquals(eos, new ArrayList<>(tokenizer.eosIds()));
        assertEquals(eos.get(0), tokenizer.eosId());
        assertEquals(special("<|endoftext|>"), tokenizer.padId());
        assertEquals(gen.get("bos_token_id").asInt(), tokenizer.bosId());
        assertEquals(special("<|image_pad|>"), tokenizer.imagePlaceholderId());
        assertEquals(special("<|vision_start|>"), tokenizer.visionStartId());
        assertEquals(special("<|vision_end|>"), tokenizer.visionEndId());
        assertEquals(special("<|video_pad|>"), tokenizer.videoPadId());
        assertEquals(1024, tokenizer.vocabSize(), "config.json vocab_size");
        assertEquals("<|image_pad|>", tokenizer.tokenText(tokenizer.imagePlaceholderId()));
        assertEquals("Ġassistant", tokenizer.tokenText(847));
        assertEquals("<unused:1022>", tokenizer.tokenText(1022));
        assertEquals(special("<|im_start|>"), tokenizer.tokenId("<|im_start|>"));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.tokenText(1024));
    }

    @Test
    void decodeSkipsSpecialTokensUnlessAskedToKeepThem() {
        JsonNode c = REF.get("cases").get("case1");
        String full = c.get("prompt_text").asText() + c.get("continuation_text").asText();
        int[] ids = ints(c.get("input_ids"));
        assertEquals(full, tokenizer.decode(ids, false));
        String plain = full;
        for (Iterator<String> it = REF.get("token_map").get("special_tokens").fieldNames(); it.hasNext(); ) {
            plain = plain.replace(it.next(), "");
        }
        assertEquals("system\nYou are a helpful assistant.\nuser\nDescribe this image.\nassistant\nA small random test image.", plain);
        assertEquals(plain, tokenizer.decode(ids));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {5, -1}));
    }

    @Test
    void longTextsAreNotTruncated() {
        String text = "a" + " a".repeat(700);
        int[] ids = tokenizer.encode(text);
        assertEquals(701, ids.length, "no truncation at DJL's default 512");
        assertEquals(264, ids[700], "\" a\" is the fixture's id 264");
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void anyTextRoundTripsThroughByteTokens() {
        for (String s : List.of("Grüße, 世界! 123\tTabs  and\n\nnewlines ", "helpful|assistant ì\u0006", "x <|im_end|> y")) {
            assertEquals(s, tokenizer.decode(tokenizer.encode(s), false), s);
        }
        assertArrayEquals(new int[] {tokenizer.tokenId("x"), special("<|im_end|>")}, tokenizer.encode("x<|im_end|>"),
                "special token text is one token");
    }

    @Test
    void djlTelemetryIsOffAndOfflineModeOn() {
        assertEquals("true", System.getProperty("OPT_OUT_TRACKING"));
        assertEquals("true", System.getProperty("ai.djl.offline"));
    }

    @Test
    void errorsNameTheFile(@TempDir Path dir) throws IOException {
        IOException missing = assertThrows(IOException.class, () -> HfTokenizer.load(dir));
        assertTrue(missing.getMessage().contains(dir.resolve("tokenizer.json").toString()), missing.getMessage());

        Files.copy(modelDir.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|nope|>\"}");
        IOException unknown = assertThrows(IOException.class, () -> HfTokenizer.load(dir));
        assertTrue(unknown.getMessage().contains("<|nope|>") && unknown.getMessage().contains("tokenizer_config.json"), unknown.getMessage());

        Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
        Files.writeString(dir.resolve("config.json"), "{\"vocab_size\": 100}");
        IOException small = assertThrows(IOException.class, () -> HfTokenizer.load(dir));
        assertTrue(small.getMessage().contains("vocab_size 100"), small.getMessage());

        Files.delete(dir.resolve("config.json"));
        try (HfTokenizer bare = HfTokenizer.load(dir)) {
            assertEquals(1022, bare.vocabSize(), "largest id + 1 without config.json");
            assertEquals(-1, bare.padId());
            assertEquals(-1, bare.imagePlaceholderId());
            assertTrue(bare.eosIds().isEmpty());
        }
    }
}
