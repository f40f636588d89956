package io.vlmrl.model;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class WordTokenizerTest {
    private final WordTokenizer tok = ModelFixtures.tokenizer();

    @Test
    void specialIdsAreFixed() {
        assertEquals(0, tok.padId());
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        assertEquals(3, tok.imagePlaceholderId());
        assertEquals("<eos>", tok.tokenText(tok.eosId()));
        assertEquals(tok.tokens().size(), tok.vocabSize());
    }

    @Test
    void knownWordsAreOneTokenEach() {
        int[] ids = tok.encode("how many red triangles are there?");
        assertEquals(7, ids.length);
        assertEquals("how", tok.tokenText(ids[0]));
        assertEquals("triangles", tok.tokenText(ids[3]));
        assertEquals("?", tok.tokenText(ids[6]));
        assertEquals(1, tok.encode("27").length, "numbers of the word list are single tokens");
    }

    @Test
    void canonicalTextRoundTrips() {
        for (String s : List.of("how many red triangles are there?", "yes", "no, there are 3 blue circles.",
                "<answer>12</answer>", "the answer is 7", "zebra 42 quokkas!", "copy: 1 2 3", "")) {
            assertEquals(s, tok.decode(tok.encode(s)), "round trip of \"" + s + "\"");
        }
    }

    @Test
    void unknownWordsFallBackToCharacters() {
        int[] ids = tok.encode("zebra");
        assertEquals(5, ids.length);
        assertEquals("z", tok.tokenText(ids[0]));
        assertEquals("##e", tok.tokenText(ids[1]));
        assertEquals("##a", tok.tokenText(ids[4]));
        int[] number = tok.encode("123");
        assertArrayEquals(new String[] {"1", "##2", "##3"},
                java.util.Arrays.stream(number).mapToObj(tok::tokenText).toArray());
        assertEquals("red zebra blue", tok.decode(tok.encode("red zebra blue")));
    }

    @Test
    void encodingNormalisesCaseAndSpacing() {
        assertArrayEquals(tok.encode("how many"), tok.encode("  How\tMANY \n"));
        assertEquals("how many?", tok.decode(tok.encode("How  many ?")));
    }

    @Test
    void specialTokensInTextAndUnknownCharacters() {
        int[] ids = tok.encode("<image> how many?");
        assertEquals(tok.imagePlaceholderId(), ids[0]);
        int[] unk = tok.encode("é");
        assertArrayEquals(new int[] {tok.unkId()}, unk);
        int[] answer = tok.encode("<answer>5</answer>");
        assertEquals(3, answer.length, "symbol words of the list win over punctuation splitting");
    }

    @Test
    void decodeSkipsPadBosEosAndRejectsBadIds() {
        int[] ids = tok.encode("red");
        assertEquals("red", tok.decode(new int[] {tok.bosId(), ids[0], tok.eosId(), tok.padId(), tok.padId()}));
        var e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {tok.vocabSize()}));
        assertTrue(e.getMessage().contains("token id"), e.getMessage());
    }

    @Test
    void vocabularySerialisesExactly() throws Exception {
        WordTokenizer back = WordTokenizer.fromJson(tok.toJson());
        assertEquals(tok.tokens(), back.tokens());
        String s = "how many green squares? 17";
        assertArrayEquals(tok.encode(s), back.encode(s));
        Path dir = Files.createTempDirectory("tok");
        Path file = dir.resolve("tokenizer.json");
        tok.save(file);
        assertEquals(tok.tokens(), WordTokenizer.load(file).tokens());
        Files.writeString(file, "{\"type\": \"word\"");
        var e = assertThrows(CheckpointException.class, () -> WordTokenizer.load(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void badWordListsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.fromWords(List.of("two words")));
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.fromWords(List.of("##x")));
        assertThrows(IllegalArgumentException.class, () -> WordTokenizer.fromTokens(List.of("<pad>", "<bos>")));
        assertThrows(IllegalArgumentException.class,
                () -> WordTokenizer.fromTokens(List.of("<pad>", "<bos>", "<eos>", "<image>", "<unk>", "a", "a")));
        WordTokenizer dup = WordTokenizer.fromWords(List.of("Red", "red", "a", "<image>"));
        assertEquals(1, dup.encode("red").length);
        assertEquals(WordTokenizer.fromWords(List.of("red")).vocabSize(), dup.vocabSize());
    }
}
