package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** config.json parsing: the fixture, transformers' defaults, the newer layouts, and refused settings. */
class QwenVlConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void readsTheFixtureConfig() throws IOException {
        QwenVlConfig c = QwenVlConfig.load(QwenFixture.float32());
        assertEquals("qwen2_5_vl", c.modelType());
        assertTrue(c.isQwen25());
        QwenVlConfig.Text t = c.text();
        assertEquals(new QwenVlConfig.Text(1024, 64, 96, 3, 4, 2, 1e-6, 1e6, List.of(2, 3, 3), true, "silu", 128000), t);
        assertEquals(16, t.headDim());
        QwenVlConfig.Vision v = c.vision();
        assertEquals(new QwenVlConfig.Vision(4, 32, 2, 48, 64, 14, 2, 2, 3, 56, List.of(1, 3), "silu", 2, true), v);
        assertEquals(1176, v.patchValues());
        assertTrue(v.isFullAttention(1) && v.isFullAttention(3) && !v.isFullAttention(0) && !v.isFullAttention(2));
        assertEquals(1012, c.imageTokenId());
        assertEquals(1013, c.videoTokenId());
        assertEquals(1009, c.visionStartTokenId());
        assertEquals(1010, c.visionEndTokenId());
        assertEquals(1000, c.bosTokenId());
        assertEquals(List.of(1002), c.eosTokenIds());
        assertEquals("bfloat16", JSON.readTree(QwenVlConfig.load(QwenFixture.bf16()).toJson(null)).get("torch_dtype").asText());
    }

    @Test
    void omittedKeysTakeTransformersDefaults() {
        // the shape of a real Qwen2.5-VL-3B config.json with most keys left out
        QwenVlConfig c = QwenVlConfig.parse("""
                {"model_type": "qwen2_5_vl", "hidden_size": 2048, "num_attention_heads": 16,
                 "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
                 "vision_config": {"out_hidden_size": 2048}}""", "mini.json");
        QwenVlConfig.Text t = c.text();
        assertEquals(152064, t.vocabSize());
        assertEquals(29568, t.intermediateSize());
        assertEquals(80, t.numLayers());
        assertEquals(8, t.numKvHeads());
        assertEquals(1e-5, t.rmsNormEps());
        assertEquals(1e6, t.ropeTheta());
        assertFalse(t.tieWordEmbeddings());
        assertEquals(128, t.headDim());
        QwenVlConfig.Vision v = c.vision();
        assertEquals(32, v.depth());
        assertEquals(3584, v.width(), "transformers' Qwen2_5_VLVisionConfig default hidden_size");
        assertEquals(16, v.numHeads());
        assertEquals(3420, v.intermediateSize());
        assertEquals(14, v.patchSize());
        assertEquals(2, v.temporalPatchSize());
        assertEquals(2, v.spatialMergeSize());
        assertEquals(3, v.inChannels());
        assertEquals(112, v.windowSize());
        assertEquals(List.of(7, 15, 23, 31), v.fullAttBlockIndexes());
        assertEquals("silu", v.hiddenAct());
        assertEquals(4.0, v.tokensPerSecond());
        assertEquals(151655, c.imageTokenId());
        assertEquals(151656, c.videoTokenId());
        assertEquals(151652, c.visionStartTokenId());
        assertEquals(151653, c.visionEndTokenId());
        assertNull(c.bosTokenId());
        assertEquals(List.of(), c.eosTokenIds());
    }

    @Test
    void qwen2VlVisionDefaults() {
        QwenVlConfig c = QwenVlConfig.parse("""
                {"model_type": "qwen2_vl", "hidden_size": 1536, "num_attention_heads": 12, "num_key_value_heads": 2,
                 "eos_token_id": [151645, 151643],
                 "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
                 "vision_config": {"hidden_size": 1536, "in_chans": 3, "spatial_patch_size": 14}}""", "qwen2.json");
        assertFalse(c.isQwen25());
        QwenVlConfig.Vision v = c.vision();
        assertEquals(1280, v.width());
        assertEquals(5120, v.intermediateSize(), "embed_dim × mlp_ratio 4");
        assertEquals(1536, v.outHiddenSize());
        assertEquals("quick_gelu", v.hiddenAct());
        assertFalse(v.windowed());
        assertTrue(v.isFullAttention(0) && v.isFullAttention(31));
        assertEquals(List.of(151645, 151643), c.eosTokenIds());
    }

    @Test
    void newerLayoutsNestTextKeysAndRopeParameters() {
        QwenVlConfig nested = QwenVlConfig.parse("""
                {"model_type": "qwen2_5_vl", "image_token_id": 7,
                 "text_config": {"hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
                                 "num_hidden_layers": 3, "intermediate_size": 96, "vocab_size": 1024,
                                 "rms_norm_eps": 1e-6, "tie_word_embeddings": true,
                                 "rope_scaling": {"rope_type": "default", "mrope_section": [2, 3, 3]},
                                 "rope_theta": 10000.0},
                 "vision_config": {"depth": 2, "hidden_size": 32, "num_heads": 2, "intermediate_size": 48,
                                   "out_hidden_size": 64, "window_size": 56, "fullatt_block_indexes": [1]}}""", "nested.json");
        assertEquals(64, nested.text().hiddenSize());
        assertEquals(3, nested.text().numLayers());
        assertEquals(1e4, nested.text().ropeTheta());
        assertTrue(nested.text().tieWordEmbeddings());
        assertEquals(7, nested.imageTokenId());
        QwenVlConfig ropeParameters = QwenVlConfig.parse("""
                {"model_type": "qwen2_5_vl", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 5000.0, "mrope_section": [2, 3, 3]},
                 "vision_config": {"depth": 2, "hidden_size": 32, "num_heads": 2, "out_hidden_size": 64,
                                   "window_size": 56, "fullatt_block_indexes": [1]}}""", "params.json");
        assertEquals(5000.0, ropeParameters.text().ropeTheta());
        assertEquals(List.of(2, 3, 3), ropeParameters.text().mropeSection());
    }

    @Test
    void refusesWhatItCannotCompute() {
        assertRefused("{\"model_type\": \"llava\"}", "model_type must be \"qwen2_5_vl\" or \"qwen2_vl\", got \"llava\"");
        assertRefused("{\"hidden_size\": 64}", "got none");
        String base = "\"model_type\": \"qwen2_5_vl\", \"hidden_size\": 64, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
                + "\"vision_config\": {\"hidden_size\": 32, \"num_heads\": 2, \"out_hidden_size\": 64, \"window_size\": 56, "
                + "\"depth\": 2, \"fullatt_block_indexes\": [1]}";
        assertRefused("{" + base + "}", "mrope_section is required");
        assertRefused("{" + base + ", \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 4]}}",
                "must sum to head_dim / 2 = 8, got 9");
        assertRefused("{" + base + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"mrope_section\": [2, 3, 3]}}",
                "type \"yarn\" is not supported");
        assertRefused("{" + base + ", \"use_sliding_window\": true, \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 3]}}",
                "use_sliding_window true is not supported");
        assertRefused("{" + base.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3") + ", \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 3]}}",
                "must be divisible by num_key_value_heads 3");
        assertRefused("{\"model_type\": \"qwen2_5_vl\", \"hidden_size\": 64, \"num_attention_heads\": 4, "
                        + "\"num_key_value_heads\": 2, \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 3]}, "
                        + "\"vision_config\": {\"hidden_size\": 32, \"num_heads\": 2, \"out_hidden_size\": 48}}",
                "output size 48 must equal the text hidden_size 64");
        assertRefused("{" + base.replace("\"window_size\": 56", "\"window_size\": 50")
                        + ", \"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 3]}}",
                "window_size 50 must be a positive multiple of spatial_merge_size × patch_size = 28");
        assertRefused("{\"model_type\": ", "not valid JSON");
    }

    private static void assertRefused(String json, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QwenVlConfig.parse(json, "some/config.json"));
        assertTrue(e.getMessage().startsWith("some/config.json: "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected \"" + fragment + "\" in: " + e.getMessage());
    }

    @Test
    void toJsonKeepsEveryKeyAndSetsTheDtype() throws IOException {
        String original = Files.readString(QwenFixture.float32().resolve("config.json"));
        QwenVlConfig c = QwenVlConfig.parse(original, "config.json");
        JsonNode written = JSON.readTree(c.toJson("bfloat16"));
        JsonNode expected = JSON.readTree(original);
        assertEquals("bfloat16", written.get("torch_dtype").asText());
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected).put("torch_dtype", "bfloat16");
        assertEquals(expected, written);
        assertEquals(c.text(), QwenVlConfig.parse(c.toJson("float32"), "again").text());
        assertEquals(c.vision(), QwenVlConfig.parse(c.toJson("float32"), "again").vision());
    }
}
