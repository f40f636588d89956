package io.vlmrl.model;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

import static io.vlmrl.model.ModelFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {
    private static final WordTokenizer TOK = tokenizer();

    @TempDir
    Path dir;

    private Tensor logitsOf(VisionLanguageModel m) {
        int img = TOK.imagePlaceholderId();
        Tensor[] prompt = leftPadded(new long[][] {{img, 10, 11}, {img}}, 3, TOK.padId());
        return m.responseLogits(pixels(2, 16, 31), prompt[0], prompt[1], rightPadded(new long[][] {{20, 21}, {22}}, 2, 0));
    }

    @Test
    void saveThenLoadGivesIdenticalOutputs() throws Exception {
        VlmConfig config = tinyBuilder(TOK).tieEmbeddings(false).visionPositions("rope2d").build();
        VisionLanguageModel m = new VisionLanguageModel(config, 5);
        Checkpoint.save(dir, m, TOK);
        Checkpoint.Loaded loaded = Checkpoint.load(dir);
        assertEquals(config, loaded.config());
        assertEquals(TOK.tokens(), loaded.tokenizer().tokens());
        assertEquals(0.0, maxAbsDiff(logitsOf(m), logitsOf(loaded.model())));
        for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
            assertTrue(e.getValue().equal(loaded.model().namedParameters().get(e.getKey())), e.getKey());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(3, files.count(), "only config, tokenizer and weights: no temporary files left");
        }
    }

    @Test
    void overwritingReplacesTheWeights() throws Exception {
        VlmConfig config = tinyConfig();
        Checkpoint.save(dir, new VisionLanguageModel(config, 1), null);
        VisionLanguageModel second = new VisionLanguageModel(config, 2);
        Checkpoint.save(dir, second, null);
        Checkpoint.Loaded loaded = Checkpoint.load(dir);
        assertNull(loaded.tokenizer());
        assertEquals(0.0, maxAbsDiff(logitsOf(second), logitsOf(loaded.model())));
    }

    @Test
    void truncatedWeightsGiveAClearError() throws Exception {
        Checkpoint.save(dir, new VisionLanguageModel(tinyConfig(), 1), TOK);
        Path weights = dir.resolve(Checkpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, Arrays.copyOf(bytes, bytes.length / 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        assertEquals(weights, e.file());
        assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
    }

    @Test
    void corruptWeightsGiveAClearError() throws Exception {
        Checkpoint.save(dir, new VisionLanguageModel(tinyConfig(), 1), TOK);
        Path weights = dir.resolve(Checkpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);
        for (int i = 0; i < bytes.length; i += 7) {
            bytes[i] ^= (byte) 0x5A;
        }
        Files.write(weights, bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
        Files.writeString(weights, "not an archive");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
    }

    @Test
    void missingOrMismatchedFilesAreNamed() throws Exception {
        CheckpointException missing = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        assertTrue(missing.getMessage().contains(Checkpoint.CONFIG_FILE), missing.getMessage());

        Checkpoint.save(dir, new VisionLanguageModel(tinyConfig(), 1), TOK);
        VisionLanguageModel wider = new VisionLanguageModel(tinyBuilder(TOK).hiddenSize(64).build());
        CheckpointException shape = assertThrows(CheckpointException.class,
                () -> Checkpoint.loadWeights(dir.resolve(Checkpoint.WEIGHTS_FILE), wider));
        assertTrue(shape.getMessage().contains("shape"), shape.getMessage());

        VisionLanguageModel untied = new VisionLanguageModel(tinyBuilder(TOK).tieEmbeddings(false).build());
        CheckpointException keys = assertThrows(CheckpointException.class,
                () -> Checkpoint.loadWeights(dir.resolve(Checkpoint.WEIGHTS_FILE), untied));
        assertTrue(keys.getMessage().contains("language.lm_head.weight"), keys.getMessage());

        Files.writeString(dir.resolve(Checkpoint.CONFIG_FILE), "{\"hiddenSize\": 33}");
        CheckpointException config = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        assertTrue(config.getMessage().contains(Checkpoint.CONFIG_FILE) && config.getMessage().contains("hiddenSize"),
                config.getMessage());
    }
}
