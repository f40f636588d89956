package io.vlmrl.model;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class VlmConfigTest {

    @Test
    void defaultsDescribeTheSmallModel() {
        VlmConfig c = VlmConfig.defaults(ModelFixtures.tokenizer());
        assertEquals(48, c.imageSize());
        assertEquals(4, c.gridSize());
        assertEquals(16, c.numPatches());
        assertEquals(16, c.numImageTokens());
        assertEquals(32, c.headDim());
        assertEquals(ModelFixtures.tokenizer().vocabSize(), c.vocabSize());
        assertEquals(3, c.imageTokenId());
    }

    @Test
    void jsonRoundTripAndDefaultsForMissingFields() {
        VlmConfig c = ModelFixtures.tinyBuilder(ModelFixtures.tokenizer()).visionPositions("rope2d").build();
        assertEquals(c, VlmConfig.fromJson(c.toJson()));
        VlmConfig partial = VlmConfig.fromMap(Map.of("hiddenSize", 64, "vocabSize", 100));
        assertEquals(64, partial.hiddenSize());
        assertEquals(100, partial.vocabSize());
        assertEquals(VlmConfig.builder().build().numLayers(), partial.numLayers());
        assertEquals(c.toBuilder().build(), c);
    }

    @Test
    void invalidValuesNameTheField() {
        assertMessage("imageSize", () -> VlmConfig.builder().imageSize(50).build());
        assertMessage("mergeSize", () -> VlmConfig.builder().imageSize(24).patchSize(8).mergeSize(2).build());
        assertMessage("hiddenSize", () -> VlmConfig.builder().hiddenSize(130).build());
        assertMessage("numKvHeads", () -> VlmConfig.builder().numKvHeads(3).build());
        assertMessage("visionPositions", () -> VlmConfig.builder().visionPositions("sinusoidal").build());
        assertMessage("eosId", () -> VlmConfig.builder().eosId(0).build());
        assertMessage("imageTokenId", () -> VlmConfig.builder().imageTokenId(512).build());
        assertMessage("pixelStd", () -> VlmConfig.builder().pixelStd(java.util.List.of(1.0, 0.0, 1.0)).build());
        assertMessage("numLayers", () -> VlmConfig.builder().numLayers(0).build());
        assertMessage("maxSeqLen", () -> VlmConfig.builder().maxSeqLen(5).build());
        assertMessage("hiddenSize", () -> VlmConfig.fromJson("{\"hiddenSize\": -1}"));
        assertThrows(IllegalArgumentException.class, () -> VlmConfig.fromJson("{\"hiddenSze\": 64}"));
    }

    private static void assertMessage(String field, org.junit.jupiter.api.function.Executable build) {
        var e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(field), "message should name " + field + ": " + e.getMessage());
    }
}
