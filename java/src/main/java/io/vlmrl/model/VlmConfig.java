package io.vlmrl.model;

import io.vlmrl.policy.Tokenizer;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;

import java.util.List;
import java.util.Map;

/**
 * Every size of the vision-language model, in the shape of Qwen2-VL in miniature.
 *
 * <p>The record components are the serialised form (JSON / YAML via Jackson); fields missing from a
 * document take the {@link Builder} defaults, which train quickly on 2 CPU cores. Construction
 * validates everything, so a bad configuration fails here with a message naming the field rather
 * than deep inside LibTorch.
 *
 * <p>Image pipeline: pixels in [0, 1] are normalised with {@code pixelMean}/{@code pixelStd}, cut
 * into {@code patchSize}² patches ({@code (imageSize/patchSize)²} of them), encoded by the vision
 * transformer, and every {@code mergeSize x mergeSize} window of patches is merged into one
 * language-model token: {@link #numImageTokens()} tokens replace the single image placeholder.
 *
 * @param imageSize          height = width of input images, in pixels
 * @param channels           image channels (3 for RGB)
 * @param patchSize          side of a square patch (the patch-embedding stride)
 * @param visionWidth        width of the vision transformer
 * @param visionLayers       number of vision transformer blocks
 * @param visionHeads        attention heads of the vision transformer
 * @param visionMlpHidden    hidden size of the vision MLP
 * @param visionPositions    {@code "learned"} (a learned table per patch) or {@code "rope2d"} (2-D rotary, as in Qwen2-VL)
 * @param mergeSize          side of the patch-merging window (2 merges 2x2 patches)
 * @param hiddenSize         width of the language model
 * @param numLayers          decoder layers
 * @param numHeads           query heads
 * @param numKvHeads         key/value heads (grouped-query attention when less than numHeads)
 * @param intermediateSize   hidden size of the SwiGLU MLP
 * @param vocabSize          vocabulary size (rows of the embedding and of the LM head)
 * @param maxSeqLen          longest sequence (image tokens + prompt + response) the model accepts
 * @param ropeTheta          RoPE base of the language model
 * @param rmsNormEps         epsilon of RMSNorm
 * @param tieEmbeddings      LM head shares the token-embedding matrix
 * @param attentionBias      q/k/v projections of the language model have biases (Qwen2 does)
 * @param initStd            standard deviation of the normal weight initialisation
 * @param pixelMean          per-channel mean used to normalise [0, 1] pixels
 * @param pixelStd           per-channel standard deviation used to normalise [0, 1] pixels
 * @param padId              padding token id
 * @param bosId              beginning-of-sequence token id
 * @param eosId              end token id (generation stops there)
 * @param imageTokenId       the image placeholder token id
 */
@JsonDeserialize(builder = VlmConfig.Builder.class)
public record VlmConfig(
        int imageSize, int channels, int patchSize,
        int visionWidth, int visionLayers, int visionHeads, int visionMlpHidden, String visionPositions,
        int mergeSize,
        int hiddenSize, int numLayers, int numHeads, int numKvHeads, int intermediateSize,
        int vocabSize, int maxSeqLen, double ropeTheta, double rmsNormEps,
        boolean tieEmbeddings, boolean attentionBias, double initStd,
        List<Double> pixelMean, List<Double> pixelStd,
        int padId, int bosId, int eosId, int imageTokenId) {

    public static final String POSITIONS_LEARNED = "learned";
    public static final String POSITIONS_ROPE2D = "rope2d";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public VlmConfig {
        pixelMean = pixelMean == null ? null : List.copyOf(pixelMean);
        pixelStd = pixelStd == null ? null : List.copyOf(pixelStd);
        positive("imageSize", imageSize);
        positive("channels", channels);
        positive("patchSize", patchSize);
        positive("visionWidth", visionWidth);
        positive("visionLayers", visionLayers);
        positive("visionHeads", visionHeads);
        positive("visionMlpHidden", visionMlpHidden);
        positive("mergeSize", mergeSize);
        positive("hiddenSize", hiddenSize);
        positive("numLayers", numLayers);
        positive("numHeads", numHeads);
        positive("numKvHeads", numKvHeads);
        positive("intermediateSize", intermediateSize);
        positive("vocabSize", vocabSize);
        positive("maxSeqLen", maxSeqLen);
        if (imageSize % patchSize != 0) {
            throw bad("imageSize", "a multiple of patchSize " + patchSize, imageSize);
        }
        if ((imageSize / patchSize) % mergeSize != 0) {
            throw bad("mergeSize", "a divisor of the patch grid side " + imageSize / patchSize, mergeSize);
        }
        if (visionWidth % visionHeads != 0) {
            throw bad("visionWidth", "a multiple of visionHeads " + visionHeads, visionWidth);
        }
        if (!POSITIONS_LEARNED.equals(visionPositions) && !POSITIONS_ROPE2D.equals(visionPositions)) {
            throw bad("visionPositions", "\"learned\" or \"rope2d\"", visionPositions);
        }
        if (POSITIONS_ROPE2D.equals(visionPositions) && (visionWidth / visionHeads) % 4 != 0) {
            throw bad("visionWidth / visionHeads", "a multiple of 4 for rope2d", visionWidth / visionHeads);
        }
        if (hiddenSize % numHeads != 0) {
            throw bad("hiddenSize", "a multiple of numHeads " + numHeads, hiddenSize);
        }
        if ((hiddenSize / numHeads) % 2 != 0) {
            throw bad("hiddenSize / numHeads", "even (RoPE rotates pairs)", hiddenSize / numHeads);
        }
        if (numHeads % numKvHeads != 0) {
            throw bad("numKvHeads", "a divisor of numHeads " + numHeads, numKvHeads);
        }
        if (!(ropeTheta > 0)) {
            throw bad("ropeTheta", "> 0", ropeTheta);
        }
        if (!(rmsNormEps > 0)) {
            throw bad("rmsNormEps", "> 0", rmsNormEps);
        }
        if (!(initStd > 0)) {
            throw bad("initStd", "> 0", initStd);
        }
        if (pixelMean == null || pixelMean.size() != channels) {
            throw bad("pixelMean", channels + " values (one per channel)", pixelMean);
        }
        if (pixelStd == null || pixelStd.size() != channels || pixelStd.stream().anyMatch(s -> s == null || !(s > 0))) {
            throw bad("pixelStd", channels + " positive values (one per channel)", pixelStd);
        }
        int[] ids = {padId, bosId, eosId, imageTokenId};
        String[] names = {"padId", "bosId", "eosId", "imageTokenId"};
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw bad(names[i], "in [0, vocabSize " + vocabSize + ")", ids[i]);
            }
            for (int j = 0; j < i; j++) {
                if (ids[i] == ids[j]) {
                    throw bad(names[i], "different from " + names[j], ids[i]);
                }
            }
        }
        int minLength = (imageSize / patchSize / mergeSize) * (imageSize / patchSize / mergeSize) + 2;
        if (maxSeqLen < minLength) {
            throw bad("maxSeqLen", ">= " + minLength + " (image tokens + 2)", maxSeqLen);
        }
    }

    /** Patches per side of the image. */
    @JsonIgnore
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** Patches per image (vision transformer sequence length). */
    @JsonIgnore
    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Language-model tokens one image expands to (after patch merging). */
    @JsonIgnore
    public int numImageTokens() {
        return numPatches() / (mergeSize * mergeSize);
    }

    /** Head dimension of the language model. */
    @JsonIgnore
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Head dimension of the vision transformer. */
    @JsonIgnore
    public int visionHeadDim() {
        return visionWidth / visionHeads;
    }

    /** Default sizes with the special ids and vocabulary size taken from {@code tokenizer}. */
    public static VlmConfig defaults(Tokenizer tokenizer) {
        return builder().tokenizer(tokenizer).build();
    }

    /** This configuration as pretty-printed JSON (the record components). */
    public String toJson() {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + this, e);
        }
    }

    /** Parses JSON written by {@link #toJson()}; missing fields take the defaults, unknown fields are errors. */
    public static VlmConfig fromJson(String json) {
        try {
            return MAPPER.readValue(json, VlmConfig.class);
        } catch (JsonProcessingException e) {
            throw invalid(e);
        }
    }

    /** Builds from a map (for example a parsed YAML section); same rules as {@link #fromJson}. */
    public static VlmConfig fromMap(Map<String, ?> values) {
        try {
            return MAPPER.convertValue(values, VlmConfig.class);
        } catch (IllegalArgumentException e) {
            throw invalid(e);
        }
    }

    private static IllegalArgumentException invalid(Exception e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof IllegalArgumentException iae && iae.getMessage() != null
                    && iae.getMessage().startsWith("VlmConfig.")) {
                return iae;
            }
        }
        return new IllegalArgumentException("invalid VlmConfig: " + e.getMessage(), e);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this configuration's values. */
    public Builder toBuilder() {
        return new Builder()
                .imageSize(imageSize).channels(channels).patchSize(patchSize)
                .visionWidth(visionWidth).visionLayers(visionLayers).visionHeads(visionHeads)
                .visionMlpHidden(visionMlpHidden).visionPositions(visionPositions).mergeSize(mergeSize)
                .hiddenSize(hiddenSize).numLayers(numLayers).numHeads(numHeads).numKvHeads(numKvHeads)
                .intermediateSize(intermediateSize).vocabSize(vocabSize).maxSeqLen(maxSeqLen)
                .ropeTheta(ropeTheta).rmsNormEps(rmsNormEps).tieEmbeddings(tieEmbeddings)
                .attentionBias(attentionBias).initStd(initStd).pixelMean(pixelMean).pixelStd(pixelStd)
                .padId(padId).bosId(bosId).eosId(eosId).imageTokenId(imageTokenId);
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw bad(name, "> 0", value);
        }
    }

    private static IllegalArgumentException bad(String name, String expected, Object actual) {
        return new IllegalArgumentException("VlmConfig." + name + " must be " + expected + ", got " + actual);
    }

    /** Fluent builder; every field starts at the default (a model that trains quickly on 2 CPU cores). */
    @JsonPOJOBuilder(withPrefix = "")
    public static final class Builder {
        // The sizes that are configuration keys take the model.* defaults (ModelConfig), so each is written once.
        private static final ModelConfig KEYS = ModelConfig.defaults();
        private int imageSize = KEYS.imageSize();
        private int channels = 3;
        private int patchSize = KEYS.patchSize();
        private int visionWidth = KEYS.visionWidth();
        private int visionLayers = KEYS.visionLayers();
        private int visionHeads = 4;
        private int visionMlpHidden = 256;
        private String visionPositions = POSITIONS_LEARNED;
        private int mergeSize = KEYS.mergeSize();
        private int hiddenSize = KEYS.hiddenSize();
        private int numLayers = KEYS.layers();
        private int numHeads = KEYS.heads();
        private int numKvHeads = KEYS.heads();
        private int intermediateSize = KEYS.intermediateSize();
        private int vocabSize = 512;
        private int maxSeqLen = 256;
        private double ropeTheta = 10000.0;
        private double rmsNormEps = 1e-6;
        private boolean tieEmbeddings = true;
        private boolean attentionBias = true;
        private double initStd = 0.02;
        // CLIP normalisation, as used by Qwen2-VL's image processor.
        private List<Double> pixelMean = List.of(0.48145466, 0.4578275, 0.40821073);
        private List<Double> pixelStd = List.of(0.26862954, 0.26130258, 0.27577711);
        private int padId = 0;
        private int bosId = 1;
        private int eosId = 2;
        private int imageTokenId = 3;

        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder visionWidth(int v) { visionWidth = v; return this; }
        public Builder visionLayers(int v) { visionLayers = v; return this; }
        public Builder visionHeads(int v) { visionHeads = v; return this; }
        public Builder visionMlpHidden(int v) { visionMlpHidden = v; return this; }
        public Builder visionPositions(String v) { visionPositions = v; return this; }
        public Builder mergeSize(int v) { mergeSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder numLayers(int v) { numLayers = v; return this; }
        public Builder numHeads(int v) { numHeads = v; return this; }
        public Builder numKvHeads(int v) { numKvHeads = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder maxSeqLen(int v) { maxSeqLen = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder tieEmbeddings(boolean v) { tieEmbeddings = v; return this; }
        public Builder attentionBias(boolean v) { attentionBias = v; return this; }
        public Builder initStd(double v) { initStd = v; return this; }
        public Builder pixelMean(List<Double> v) { pixelMean = v; return this; }
        public Builder pixelStd(List<Double> v) { pixelStd = v; return this; }
        public Builder padId(int v) { padId = v; return this; }
        public Builder bosId(int v) { bosId = v; return this; }
        public Builder eosId(int v) { eosId = v; return this; }
        public Builder imageTokenId(int v) { imageTokenId = v; return this; }

        /** Vocabulary size and special ids from a tokenizer. */
        public Builder tokenizer(Tokenizer t) {
            return vocabSize(t.vocabSize()).padId(t.padId()).bosId(t.bosId()).eosId(t.eosId())
                    .imageTokenId(t.imagePlaceholderId());
        }

        public VlmConfig build() {
            return new VlmConfig(imageSize, channels, patchSize, visionWidth, visionLayers, visionHeads,
                    visionMlpHidden, visionPositions, mergeSize, hiddenSize, numLayers, numHeads, numKvHeads,
                    intermediateSize, vocabSize, maxSeqLen, ropeTheta, rmsNormEps, tieEmbeddings, attentionBias,
                    initStd, pixelMean, pixelStd, padId, bosId, eosId, imageTokenId);
        }
    }
}
