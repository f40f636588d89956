package io.vlmrl.qwen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The architecture of a Qwen2.5-VL or Qwen2-VL checkpoint, read from its Hugging Face
 * {@code config.json}.
 *
 * <p>Every key the file omits takes the default of transformers' configuration classes
 * ({@code Qwen2_5_VLConfig} / {@code Qwen2VLConfig} and their vision and text configs), so that a
 * file means here what it means to {@code from_pretrained}. Text keys are looked up in
 * {@code text_config} first (the layout newer transformers versions write) and then at the top
 * level (the hub's original layout). The M-RoPE settings come from {@code rope_scaling}
 * ({@code {"type": "mrope", "mrope_section": [...]}} or {@code {"rope_type": "default", ...}},
 * as transformers rewrites "mrope" to "default") or from the newer {@code rope_parameters}.
 *
 * <p>Keys that would change the computation in ways this implementation does not follow are
 * refused rather than ignored: another rope type (dynamic, yarn, ...), sliding-window attention,
 * an unknown activation. Keys that do not change it ({@code in_chans}, {@code spatial_patch_size},
 * {@code tokens_per_second} for images, {@code max_position_embeddings}) are kept but unused.
 * Problems throw {@link IllegalArgumentException} naming the source file, the key, and the value.
 */
public final class QwenVlConfig {
    public static final String QWEN2_5_VL = "qwen2_5_vl";
    public static final String QWEN2_VL = "qwen2_vl";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * The language model.
     *
     * @param mropeSection rotary frequencies per axis (t, h, w); their sum is headDim / 2
     */
    public record Text(int vocabSize, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                       int numKvHeads, double rmsNormEps, double ropeTheta, List<Integer> mropeSection,
                       boolean tieWordEmbeddings, String hiddenAct, int maxPositionEmbeddings) {
        public Text {
            mropeSection = List.copyOf(mropeSection);
        }

        public int headDim() {
            return hiddenSize / numHeads;
        }
    }

    /**
     * The vision tower.
     *
     * @param width               hidden size of the vision blocks ({@code hidden_size} in Qwen2.5-VL,
     *                            {@code embed_dim} in Qwen2-VL)
     * @param intermediateSize    MLP hidden size ({@code intermediate_size}, or embed_dim × mlp_ratio)
     * @param outHiddenSize       output size of the patch merger = the LM's hidden size
     * @param windowSize          attention window in pixels (Qwen2.5-VL), 0 for Qwen2-VL (no windows)
     * @param fullAttBlockIndexes blocks that attend over the whole image (all blocks in Qwen2-VL)
     * @param windowed            Qwen2.5-VL style (RMSNorm, SwiGLU MLP, window attention) rather than
     *                            Qwen2-VL style (LayerNorm, fc1/fc2 MLP, full attention)
     */
    public record Vision(int depth, int width, int numHeads, int intermediateSize, int outHiddenSize,
                         int patchSize, int temporalPatchSize, int spatialMergeSize, int inChannels,
                         int windowSize, List<Integer> fullAttBlockIndexes, String hiddenAct,
                         double tokensPerSecond, boolean windowed) {
        public Vision {
            fullAttBlockIndexes = List.copyOf(fullAttBlockIndexes);
        }

        public int headDim() {
            return width / numHeads;
        }

        /** Patches merged into one LLM token: spatialMergeSize². */
        public int mergeUnit() {
            return spatialMergeSize * spatialMergeSize;
        }

        /** Values per row of {@code pixel_values}: channels × temporal patch × patch². */
        public int patchValues() {
            return inChannels * temporalPatchSize * patchSize * patchSize;
        }

        /** Whether block {@code i} attends over whole images rather than windows. */
        public boolean isFullAttention(int i) {
            return !windowed || fullAttBlockIndexes.contains(i);
        }
    }

    private final String modelType;
    private final Text text;
    private final Vision vision;
    private final int imageTokenId, videoTokenId, visionStartTokenId, visionEndTokenId;
    private final Integer bosTokenId;
    private final List<Integer> eosTokenIds;
    private final ObjectNode json;
    private final String source;

    private QwenVlConfig(String modelType, Text text, Vision vision, int imageTokenId, int videoTokenId,
                         int visionStartTokenId, int visionEndTokenId, Integer bosTokenId, List<Integer> eosTokenIds,
                         ObjectNode json, String source) {
        this.modelType = modelType;
        this.text = text;
        this.vision = vision;
        this.imageTokenId = imageTokenId;
        this.videoTokenId = videoTokenId;
        this.visionStartTokenId = visionStartTokenId;
        this.visionEndTokenId = visionEndTokenId;
        this.bosTokenId = bosTokenId;
        this.eosTokenIds = List.copyOf(eosTokenIds);
        this.json = json;
        this.source = source;
    }

    /** Reads {@code config.json} (a file, or a model directory holding one). */
    public static QwenVlConfig load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "config.json of the model is missing");
        }
        return parse(content, file.toString());
    }

    /** Parses config JSON; {@code source} names it in error messages. */
    public static QwenVlConfig parse(String content, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": must be a JSON object");
        }
        return new Reader((ObjectNode) root, source).read();
    }

    /** Reads keys with defaults and checks them; one instance per parse. */
    private static final class Reader {
        private final ObjectNode root;
        private final String source;
        private final JsonNode textConfig;

        Reader(ObjectNode root, String source) {
            this.root = root;
            this.source = source;
            JsonNode t = root.get("text_config");
            this.textConfig = t != null && t.isObject() ? t : null;
        }

        QwenVlConfig read() {
            String modelType = string(root, "model_type", null, "");
            if (!QWEN2_5_VL.equals(modelType) && !QWEN2_VL.equals(modelType)) {
                throw new IllegalArgumentException(source + ": model_type must be \"" + QWEN2_5_VL + "\" or \""
                        + QWEN2_VL + "\", got " + (modelType == null ? "none" : "\"" + modelType + "\""));
            }
            boolean v25 = QWEN2_5_VL.equals(modelType);
            Text text = readText();
            Vision vision = v25 ? readVision25() : readVision2();
            if (vision.outHiddenSize() != text.hiddenSize()) {
                throw new IllegalArgumentException(source + ": the vision tower's output size " + vision.outHiddenSize()
                        + " must equal the text hidden_size " + text.hiddenSize());
            }
            int image = tokenId("image_token_id", 151655);
            int video = tokenId("video_token_id", 151656);
            int visionStart = tokenId("vision_start_token_id", 151652);
            int visionEnd = tokenId("vision_end_token_id", 151653);
            JsonNode bos = textKey("bos_token_id");
            Integer bosId = bos == null || bos.isNull() ? null : bos.asInt();
            List<Integer> eos = new ArrayList<>();
            JsonNode eosNode = textKey("eos_token_id");
            if (eosNode != null && eosNode.isArray()) {
                eosNode.forEach(n -> eos.add(n.asInt()));
            } else if (eosNode != null && eosNode.isIntegralNumber()) {
                eos.add(eosNode.asInt());
            }
            return new QwenVlConfig(modelType, text, vision, image, video, visionStart, visionEnd, bosId, eos,
                    root.deepCopy(), source);
        }

        private JsonNode textKey(String key) {
            if (textConfig != null && textConfig.has(key)) {
                return textConfig.get(key);
            }
            return root.get(key);
        }

        private int tokenId(String key, int fallback) {
            JsonNode n = root.has(key) ? root.get(key) : textKey(key);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isIntegralNumber()) {
                throw new IllegalArgumentException(source + ": " + key + " must be an integer, got " + n);
            }
            return n.asInt();
        }

        private Text readText() {
            int vocab = integer(textKey("vocab_size"), "vocab_size", 152064);
            int hidden = integer(textKey("hidden_size"), "hidden_size", 8192);
            int intermediate = integer(textKey("intermediate_size"), "intermediate_size", 29568);
            int layers = integer(textKey("num_hidden_layers"), "num_hidden_layers", 80);
            int heads = integer(textKey("num_attention_heads"), "num_attention_heads", 64);
            // transformers: absent -> 8; explicitly null -> num_attention_heads (backward compatibility)
            JsonNode kv = textKey("num_key_value_heads");
            int kvHeads = kv != null && kv.isNull() ? heads : integer(kv, "num_key_value_heads", 8);
            double eps = number(textKey("rms_norm_eps"), "rms_norm_eps", 1e-5);
            JsonNode tie = textKey("tie_word_embeddings");
            boolean tied = tie != null && !tie.isNull() && tie.asBoolean();
            String act = string(textConfig != null && textConfig.has("hidden_act") ? textConfig : root, "hidden_act",
                    "silu", "");
            int maxPositions = integer(textKey("max_position_embeddings"), "max_position_embeddings", 32768);
            JsonNode sliding = textKey("use_sliding_window");
            if (sliding != null && sliding.asBoolean(false)) {
                throw new IllegalArgumentException(source + ": use_sliding_window true is not supported");
            }
            if (!"silu".equals(act)) {
                throw new IllegalArgumentException(source + ": hidden_act of the language model must be \"silu\", got \"" + act + "\"");
            }
            positive("vocab_size", vocab);
            positive("hidden_size", hidden);
            positive("intermediate_size", intermediate);
            positive("num_hidden_layers", layers);
            positive("num_attention_heads", heads);
            positive("num_key_value_heads", kvHeads);
            if (hidden % heads != 0) {
                throw new IllegalArgumentException(source + ": hidden_size " + hidden
                        + " must be divisible by num_attention_heads " + heads);
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException(source + ": num_attention_heads " + heads
                        + " must be divisible by num_key_value_heads " + kvHeads);
            }
            double theta = number(textKey("rope_theta"), "rope_theta", 1_000_000.0);
            JsonNode rope = textKey("rope_scaling");
            String ropeKey = "rope_scaling";
            if (rope == null || rope.isNull()) {
                rope = textKey("rope_parameters");
                ropeKey = "rope_parameters";
            }
            if (rope == null || rope.isNull() || !rope.isObject()) {
                throw new IllegalArgumentException(source + ": rope_scaling (or rope_parameters) with an mrope_section is required"
                        + " for M-RoPE, got " + rope);
            }
            String type = rope.has("rope_type") ? rope.get("rope_type").asText() : rope.has("type") ? rope.get("type").asText() : "default";
            if (!type.equals("mrope") && !type.equals("default")) {
                throw new IllegalArgumentException(source + ": " + ropeKey + " type \"" + type
                        + "\" is not supported (only \"mrope\" / \"default\")");
            }
            if (rope.has("rope_theta")) {
                theta = number(rope.get("rope_theta"), ropeKey + ".rope_theta", theta);
            }
            JsonNode section = rope.get("mrope_section");
            if (section == null || !section.isArray() || section.size() != 3) {
                throw new IllegalArgumentException(source + ": " + ropeKey + ".mrope_section must be [t, h, w], got " + section);
            }
            List<Integer> sections = new ArrayList<>();
            int sum = 0;
            for (JsonNode s : section) {
                int v = integer(s, ropeKey + ".mrope_section", 0);
                if (v < 0) {
                    throw new IllegalArgumentException(source + ": " + ropeKey + ".mrope_section entries must be >= 0, got " + section);
                }
                sections.add(v);
                sum += v;
            }
            int headDim = hidden / heads;
            if (sum * 2 != headDim) {
                throw new IllegalArgumentException(source + ": " + ropeKey + ".mrope_section " + section + " must sum to head_dim / 2 = "
                        + headDim / 2 + ", got " + sum);
            }
            return new Text(vocab, hidden, intermediate, layers, heads, kvHeads, eps, theta, sections, tied, act, maxPositions);
        }

        private JsonNode visionConfig() {
            JsonNode v = root.get("vision_config");
            if (v != null && !v.isNull() && !v.isObject()) {
                throw new IllegalArgumentException(source + ": vision_config must be an object, got " + v.getNodeType());
            }
            return v == null || v.isNull() ? JSON.createObjectNode() : v;
        }

        private Vision readVision25() {
            JsonNode v = visionConfig();
            int depth = integer(v.get("depth"), "vision_config.depth", 32);
            int width = integer(v.get("hidden_size"), "vision_config.hidden_size", 3584);
            int heads = integer(v.get("num_heads"), "vision_config.num_heads", 16);
            int intermediate = integer(v.get("intermediate_size"), "vision_config.intermediate_size", 3420);
            int out = integer(v.get("out_hidden_size"), "vision_config.out_hidden_size", 3584);
            int patch = integer(v.get("patch_size"), "vision_config.patch_size", 14);
            int temporal = integer(v.get("temporal_patch_size"), "vision_config.temporal_patch_size", 2);
            int merge = integer(v.get("spatial_merge_size"), "vision_config.spatial_merge_size", 2);
            int channels = integer(v.get("in_channels"), "vision_config.in_channels", 3);
            int window = integer(v.get("window_size"), "vision_config.window_size", 112);
            double tps = number(v.get("tokens_per_second"), "vision_config.tokens_per_second", 4);
            String act = string(v, "hidden_act", "silu", "vision_config.");
            List<Integer> full = new ArrayList<>();
            JsonNode fullNode = v.get("fullatt_block_indexes");
            if (fullNode == null || fullNode.isNull()) {
                full.addAll(List.of(7, 15, 23, 31));
            } else if (!fullNode.isArray()) {
                throw new IllegalArgumentException(source + ": vision_config.fullatt_block_indexes must be a list, got " + fullNode);
            } else {
                for (JsonNode i : fullNode) {
                    full.add(integer(i, "vision_config.fullatt_block_indexes", 0));
                }
            }
            Vision vision = new Vision(depth, width, heads, intermediate, out, patch, temporal, merge, channels, window,
                    full, act, tps, true);
            checkVision(vision);
            int unit = merge * patch;
            if (window <= 0 || window % unit != 0) {
                throw new IllegalArgumentException(source + ": vision_config.window_size " + window
                        + " must be a positive multiple of spatial_merge_size × patch_size = " + unit);
            }
            for (int i : full) {
                if (i < 0 || i >= depth) {
                    throw new IllegalArgumentException(source + ": vision_config.fullatt_block_indexes " + full
                            + " must be in [0, depth " + depth + ")");
                }
            }
            return vision;
        }

        private Vision readVision2() {
            JsonNode v = visionConfig();
            int depth = integer(v.get("depth"), "vision_config.depth", 32);
            int width = integer(v.get("embed_dim"), "vision_config.embed_dim", 1280);
            int out = integer(v.get("hidden_size"), "vision_config.hidden_size", 3584);
            int heads = integer(v.get("num_heads"), "vision_config.num_heads", 16);
            double ratio = number(v.get("mlp_ratio"), "vision_config.mlp_ratio", 4);
            int patch = integer(v.get("patch_size"), "vision_config.patch_size", 14);
            int temporal = integer(v.get("temporal_patch_size"), "vision_config.temporal_patch_size", 2);
            int merge = integer(v.get("spatial_merge_size"), "vision_config.spatial_merge_size", 2);
            int channels = integer(v.get("in_channels"), "vision_config.in_channels", 3);
            String act = string(v, "hidden_act", "quick_gelu", "vision_config.");
            Vision vision = new Vision(depth, width, heads, (int) (width * ratio), out, patch, temporal, merge, channels,
                    0, List.of(), act, 1.0, false);
            checkVision(vision);
            return vision;
        }

        private void checkVision(Vision v) {
            positive("vision_config depth", v.depth());
            positive("vision_config width", v.width());
            positive("vision_config.num_heads", v.numHeads());
            positive("vision_config MLP size", v.intermediateSize());
            positive("vision_config.patch_size", v.patchSize());
            positive("vision_config.temporal_patch_size", v.temporalPatchSize());
            positive("vision_config.spatial_merge_size", v.spatialMergeSize());
            positive("vision_config.in_channels", v.inChannels());
            if (v.width() % v.numHeads() != 0 || (v.width() / v.numHeads()) % 4 != 0) {
                throw new IllegalArgumentException(source + ": vision width " + v.width() + " / num_heads " + v.numHeads()
                        + " must be a whole head size divisible by 4 (2-D rotary)");
            }
            if (!QwenActivation.isKnown(v.hiddenAct())) {
                throw new IllegalArgumentException(source + ": vision_config.hidden_act \"" + v.hiddenAct()
                        + "\" is not supported (" + QwenActivation.KNOWN + ")");
            }
        }

        private int integer(JsonNode n, String key, int fallback) {
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw new IllegalArgumentException(source + ": " + key + " must be an integer, got " + n);
            }
            return n.asInt();
        }

        private double number(JsonNode n, String key, double fallback) {
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isNumber()) {
                throw new IllegalArgumentException(source + ": " + key + " must be a number, got " + n);
            }
            return n.asDouble();
        }

        private String string(JsonNode parent, String key, String fallback, String prefix) {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isTextual()) {
                throw new IllegalArgumentException(source + ": " + prefix + key + " must be a string, got " + n);
            }
            return n.asText();
        }

        private void positive(String key, int value) {
            if (value <= 0) {
                throw new IllegalArgumentException(source + ": " + key + " must be > 0, got " + value);
            }
        }
    }

    /** {@value #QWEN2_5_VL} or {@value #QWEN2_VL}. */
    public String modelType() {
        return modelType;
    }

    /** True for Qwen2.5-VL. */
    public boolean isQwen25() {
        return QWEN2_5_VL.equals(modelType);
    }

    public Text text() {
        return text;
    }

    public Vision vision() {
        return vision;
    }

    /** {@code <|image_pad|>}: one per image token, replaced by the vision tower's output. */
    public int imageTokenId() {
        return imageTokenId;
    }

    public int videoTokenId() {
        return videoTokenId;
    }

    /** {@code <|vision_start|>}, just before each image's placeholder tokens. */
    public int visionStartTokenId() {
        return visionStartTokenId;
    }

    public int visionEndTokenId() {
        return visionEndTokenId;
    }

    /** {@code bos_token_id}, or null if the file has none. */
    public Integer bosTokenId() {
        return bosTokenId;
    }

    /** {@code eos_token_id} (one or a list; empty if the file has none). */
    public List<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    /** Where the config was read from (for messages). */
    public String source() {
        return source;
    }

    /**
     * The original JSON with {@code torch_dtype} set to {@code torchDtype} (e.g. "float32",
     * "bfloat16"): what a save writes, so that every key transformers reads survives unchanged.
     */
    public String toJson(String torchDtype) {
        ObjectNode copy = json.deepCopy();
        if (torchDtype != null) {
            copy.put("torch_dtype", torchDtype);
            if (copy.get("text_config") instanceof ObjectNode t && t.has("torch_dtype")) {
                t.put("torch_dtype", torchDtype);
            }
        }
        try {
            return JSON.writeValueAsString(copy) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "QwenVlConfig(" + modelType + ", text " + text + ", vision " + vision + ")";
    }
}
