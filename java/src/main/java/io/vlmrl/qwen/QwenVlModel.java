package io.vlmrl.qwen;

import io.vlmrl.nn.AttentionKv;
import io.vlmrl.nn.KvCache;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Qwen2.5-VL / Qwen2-VL for conditional generation: the {@link QwenVisionTower} ({@code visual.*}),
 * the {@link QwenLanguageModel} ({@code model.*}) and the LM head ({@code lm_head.weight}, or the
 * token embedding when {@code tie_word_embeddings}). Parameter names are the hub's legacy names, so
 * {@link #namedParameters()} maps name for name onto a checkpoint ({@link QwenCheckpoint}).
 *
 * <h2>Forward</h2>
 * {@link #forward} = {@link #encodeImages} → {@link #embedInputs} (each {@code <|image_pad|>} token's
 * embedding replaced, in order, by the next image token) → {@link #ropeIndex} → {@link #forwardEmbeddings}.
 * The steps are public so that a caller can encode each image once and reuse its tokens for every
 * sequence that shows it. Batches may be left- or right-padded: positions count attended tokens
 * only, padded keys are never attended (a padded query attends to itself only; its output is
 * meaningless and must be ignored).
 *
 * <h2>Generation</h2>
 * {@link #prefill} runs left-padded prompts once into a KV cache and returns the next-token logits;
 * {@link QwenDecodeState#repeatRows} expands it to G samples per prompt; {@link #decode} feeds one
 * token per row. Decode positions are the prompt's max position + 1 + step on all three axes
 * (transformers' cache position + rope delta). {@link QwenGenerator} does sampling on top.
 *
 * <h2>Native memory</h2>
 * Build the model outside any {@code PointerScope}: its parameters live as long as the model (free
 * them with {@link #close()}). Every other tensor a method returns is new and belongs to the
 * innermost open {@code PointerScope}; run forward passes inside one. Parameters start at zero;
 * load weights with {@link QwenCheckpoint}. The model is float32 on the CPU until moved with
 * {@code to(device, dtype)}.
 */
public final class QwenVlModel extends Module {
    private final QwenVlConfig config;
    private final QwenVisionTower visual;
    private final QwenLanguageModel language;
    private final Tensor lmHead;      // [V, D]; the embedding matrix when tied
    private final Module headScope;   // container, kept reachable (see QwenVisionBlock); null when tied

    /** A model of this architecture with all parameters zero (float32, CPU). */
    public QwenVlModel(QwenVlConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        this.config = config;
        // registration order = transformers' state_dict order (visual, model, lm_head): shards split alike
        visual = register_module("visual", new QwenVisionTower(config.vision()));
        language = register_module("model", new QwenLanguageModel(config.text()));
        if (config.text().tieWordEmbeddings()) {
            headScope = null;
            lmHead = language.embedTokensWeight();
        } else {
            headScope = register_module("lm_head", new Module());
            lmHead = QwenTensors.parameter(headScope, "weight", config.text().vocabSize(), config.text().hiddenSize());
        }
    }

    public QwenVlConfig config() {
        return config;
    }

    public QwenVisionTower visual() {
        return visual;
    }

    public QwenLanguageModel language() {
        return language;
    }

    /** Device of the parameters. */
    public Device device() {
        return lmHead.device();
    }

    /** The LM head matrix [V, D] (the token embedding when tied): logits = hidden · Wᵀ. */
    public Tensor lmHeadWeight() {
        return lmHead;
    }

    /** hidden [..., D] -> logits [..., V]. */
    public Tensor logits(Tensor hidden) {
        return torch.linear(hidden, lmHead);
    }

    /** Image tokens [Σ t·h·w / m², D] of {@code pixelValues} [N, C·T·P·P] with grids {@code gridThw} [numImages, 3]. */
    public Tensor encodeImages(Tensor pixelValues, Tensor gridThw) {
        return visual.forward(pixelValues, QwenTensors.grid(gridThw), null);
    }

    /** As {@link #encodeImages(Tensor, Tensor)}, grids as Java rows, with an optional probe. */
    public Tensor encodeImages(Tensor pixelValues, long[][] gridThw, QwenProbe probe) {
        return visual.forward(pixelValues, gridThw, probe);
    }

    /**
     * Token embeddings [B, L, D] of {@code inputIds} [B, L], with the image-token placeholders
     * (row-major order) replaced by the rows of {@code imageEmbeds} [T, D] in order. The number of
     * placeholders must equal T (0 when {@code imageEmbeds} is null).
     */
    public Tensor embedInputs(Tensor inputIds, Tensor imageEmbeds) {
        QwenTensors.requireDims("inputIds", inputIds, 2, "[B, L]");
        long b = inputIds.size(0), l = inputIds.size(1), d = config.text().hiddenSize();
        long[] ids = QwenTensors.toLongs(inputIds);
        long[] imagePositions = new long[ids.length];
        int count = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.text().vocabSize()) {
                throw new IllegalArgumentException("inputIds[" + i / l + ", " + i % l + "] = " + ids[i]
                        + " is outside the vocabulary [0, " + config.text().vocabSize() + ")");
            }
            if (ids[i] == config.imageTokenId()) {
                imagePositions[count++] = i;
            }
        }
        long images = imageEmbeds == null ? 0 : imageEmbeds.size(0);
        if (count != images) {
            throw new IllegalArgumentException("inputIds hold " + count + " image tokens (id " + config.imageTokenId()
                    + ") but there are " + images + " image embeddings");
        }
        Device device = device();
        Tensor embeds = language.embed(inputIds.to(device, torch.ScalarType.Long));
        if (count == 0) {
            return embeds;
        }
        if (imageEmbeds.dim() != 2 || imageEmbeds.size(1) != d) {
            throw new IllegalArgumentException("imageEmbeds must be [" + count + ", " + d + "], got "
                    + Arrays.toString(QwenTensors.shape(imageEmbeds)));
        }
        Tensor index = QwenTensors.longs(Arrays.copyOf(imagePositions, count), device, count);
        return embeds.reshape(b * l, d).index_copy(0, index, imageEmbeds.to(device, embeds.scalar_type())).view(b, l, d);
    }

    /** M-RoPE positions of {@code inputIds} [B, L] with {@code attentionMask} [B, L] (nonzero = attended; null = all). */
    public QwenRopeIndex.Result ropeIndex(Tensor inputIds, Tensor attentionMask, long[][] gridThw) {
        return QwenRopeIndex.compute(config, rows(inputIds), maskRows(attentionMask, inputIds), gridThw);
    }

    /**
     * Runs the decoder on embeddings: hidden states [B, L, D] after the final norm.
     *
     * @param embeds        [B, L, D] (from {@link #embedInputs})
     * @param positions     [3, B, L] int64 (from {@link #ropeIndex})
     * @param attentionMask [B, L], nonzero for real tokens, or null for all
     * @param probe         receives {@code lm.*} intermediates, or null
     */
    public Tensor forwardEmbeddings(Tensor embeds, Tensor positions, Tensor attentionMask, QwenProbe probe) {
        QwenTensors.requireDims("embeds", embeds, 3, "[B, L, D]");
        long b = embeds.size(0), l = embeds.size(1);
        QwenTensors.requireDims("positions", positions, 3, "[3, " + b + ", " + l + "]");
        if (positions.size(0) != 3 || positions.size(1) != b || positions.size(2) != l) {
            throw new IllegalArgumentException("positions must be [3, " + b + ", " + l + "], got "
                    + Arrays.toString(QwenTensors.shape(positions)));
        }
        Device device = device();
        Tensor valid = attentionMask == null
                ? torch.ones(b, l).to(device, torch.ScalarType.Bool)
                : validMask(attentionMask, b, l).to(device, torch.ScalarType.Bool);
        return language.forward(embeds.to(device, embeds.scalar_type()), positions.to(device, torch.ScalarType.Long), causalMask(valid), null,
                probe);
    }

    /** Hidden states [B, L, D] after the final norm; see the class comment. {@code pixelValues} and {@code gridThw} may be null (text only). */
    public Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor pixelValues, Tensor gridThw) {
        return forward(inputIds, attentionMask, pixelValues, gridThw, null);
    }

    /** {@link #forward(Tensor, Tensor, Tensor, Tensor)} with a probe for intermediates. */
    public Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor pixelValues, Tensor gridThw, QwenProbe probe) {
        long[][] grid = gridThw == null ? new long[0][] : QwenTensors.grid(gridThw);
        if ((pixelValues == null) != (grid.length == 0)) {
            throw new IllegalArgumentException("pixelValues and gridThw must be given together, got pixelValues "
                    + (pixelValues == null ? "null" : "set") + " and " + grid.length + " grids");
        }
        Tensor images = pixelValues == null ? null : visual.forward(pixelValues, grid, probe);
        Tensor embeds = embedInputs(inputIds, images);
        QwenProbe.record(probe, "lm.inputs_embeds", embeds);
        QwenRopeIndex.Result rope = ropeIndex(inputIds, attentionMask, grid);
        return forwardEmbeddings(embeds, rope.toTensor(device()), attentionMask, probe);
    }

    /** What {@link #prefill} returns: the decoding state and the logits [B, V] of each row's next token. */
    public record Prefill(QwenDecodeState state, Tensor logits) {
    }

    /**
     * Runs left-padded prompts into a new KV cache of {@code capacity} positions.
     *
     * @param inputIds      [B, P] prompts, left-padded (every row's last token is real)
     * @param attentionMask [B, P] nonzero for real tokens, or null for all
     * @param imageEmbeds   image tokens of the prompts' images in row-major order ({@link #encodeImages}), or null
     * @param gridThw       the grids of those images, in the same order
     * @param capacity      positions the cache holds: at least P + the tokens to decode
     */
    public Prefill prefill(Tensor inputIds, Tensor attentionMask, Tensor imageEmbeds, long[][] gridThw, int capacity) {
        QwenTensors.requireDims("inputIds", inputIds, 2, "[B, P]");
        int b = (int) inputIds.size(0), p = (int) inputIds.size(1);
        if (capacity < p) {
            throw new IllegalArgumentException("capacity " + capacity + " must be >= the prompt length " + p);
        }
        KvCache cache = new KvCache(config.text().numLayers(), b, config.text().numKvHeads(), capacity,
                config.text().headDim(), device(), language.embedTokensWeight().scalar_type());
        PromptPass pass = forwardPrompts(inputIds, attentionMask, imageEmbeds, gridThw, cache);
        Tensor keyValid = torch.zeros(b, capacity).to(device(), torch.ScalarType.Bool);
        keyValid.narrow(1, 0, p).copy_(pass.valid());
        Tensor logits = logits(pass.hidden().select(1, p - 1));
        return new Prefill(new QwenDecodeState(cache, keyValid, pass.rope().nextPositions()), logits);
    }

    /**
     * What {@link #forwardPrompts} returns: hidden states [B, P, D] after the final norm, the
     * prompts' M-RoPE positions ({@code nextPositions()} is where text after each prompt goes on),
     * and which positions are real tokens [B, P] (bool).
     */
    record PromptPass(Tensor hidden, QwenRopeIndex.Result rope, Tensor valid) {
    }

    /**
     * Runs left-padded prompts (arguments as for {@link #prefill}), their keys and values written
     * to {@code cache}: the generator's KV cache, or the training forward's {@code PromptKv}.
     */
    PromptPass forwardPrompts(Tensor inputIds, Tensor attentionMask, Tensor imageEmbeds, long[][] gridThw, AttentionKv cache) {
        QwenTensors.requireDims("inputIds", inputIds, 2, "[B, P]");
        int b = (int) inputIds.size(0), p = (int) inputIds.size(1);
        boolean[][] mask = maskRows(attentionMask, inputIds);
        for (int i = 0; i < b; i++) {
            if (mask != null && !mask[i][p - 1]) {
                throw new IllegalArgumentException("prompts must be left-padded: row " + i + " of attentionMask ends with padding");
            }
        }
        Device device = device();
        Tensor embeds = embedInputs(inputIds, imageEmbeds);
        QwenRopeIndex.Result rope = QwenRopeIndex.compute(config, rows(inputIds), mask, gridThw);
        Tensor valid = attentionMask == null
                ? torch.ones(b, p).to(device, torch.ScalarType.Bool)
                : validMask(attentionMask, b, p).to(device, torch.ScalarType.Bool);
        Tensor hidden = language.forward(embeds, rope.toTensor(device), causalMask(valid), cache, null);
        return new PromptPass(hidden, rope, valid);
    }

    /** Feeds one token per row ({@code tokens}[B]) and returns the logits [B, V] of the next ones; advances {@code state}. */
    public Tensor decode(QwenDecodeState state, long[] tokens) {
        int b = state.rows();
        if (tokens.length != b) {
            throw new IllegalArgumentException("decode needs one token per row: " + b + ", got " + tokens.length);
        }
        Device device = device();
        int at = state.cache.length();
        if (at >= state.cache.capacity()) {
            throw new IllegalStateException("KV cache full at " + at + " positions");
        }
        long[] positions = new long[3 * b];
        for (int a = 0; a < 3; a++) {
            System.arraycopy(state.nextPositions, 0, positions, a * b, b);
        }
        state.keyValid.narrow(1, at, 1).fill_(new Scalar(1));
        Tensor mask = state.keyValid.narrow(1, 0, at + 1).view(b, 1, 1, at + 1);
        Tensor embeds = language.embed(QwenTensors.longs(tokens, device, b, 1));
        Tensor hidden = language.forward(embeds, QwenTensors.longs(positions, device, 3, b, 1), mask, state.cache, null);
        for (int i = 0; i < b; i++) {
            state.nextPositions[i]++;
        }
        return logits(hidden.select(1, 0));
    }

    /**
     * Attention mask [B, 1, L, L] (true = may attend): causal, padded keys hidden, and every
     * position sees itself so that rows of padding stay finite.
     */
    static Tensor causalMask(Tensor valid) {
        long l = valid.size(1);
        Tensor causal = torch.ones(l, l).to(valid.device(), torch.ScalarType.Bool).tril();
        Tensor self = torch.eye(l).to(valid.device(), torch.ScalarType.Bool);
        return valid.unsqueeze(1).logical_or(self).logical_and(causal).unsqueeze(1);
    }

    private static Tensor validMask(Tensor attentionMask, long b, long l) {
        QwenTensors.requireDims("attentionMask", attentionMask, 2, "[" + b + ", " + l + "]");
        if (attentionMask.size(0) != b || attentionMask.size(1) != l) {
            throw new IllegalArgumentException("attentionMask must be [" + b + ", " + l + "], got "
                    + Arrays.toString(QwenTensors.shape(attentionMask)));
        }
        return attentionMask.ne(new Scalar(0));
    }

    private static long[][] rows(Tensor ids) {
        QwenTensors.requireDims("inputIds", ids, 2, "[B, L]");
        int b = (int) ids.size(0), l = (int) ids.size(1);
        long[] flat = QwenTensors.toLongs(ids);
        long[][] out = new long[b][];
        for (int i = 0; i < b; i++) {
            out[i] = Arrays.copyOfRange(flat, i * l, (i + 1) * l);
        }
        return out;
    }

    private static boolean[][] maskRows(Tensor attentionMask, Tensor ids) {
        if (attentionMask == null) {
            return null;
        }
        int b = (int) ids.size(0), l = (int) ids.size(1);
        long[] flat = QwenTensors.toLongs(validMask(attentionMask, b, l));
        boolean[][] out = new boolean[b][l];
        for (int i = 0; i < flat.length; i++) {
            out[i / l][i % l] = flat[i] != 0;
        }
        return out;
    }

    /** Every parameter by its hub name ({@code visual.*}, {@code model.*}, {@code lm_head.weight} if untied), in registration order. */
    public Map<String, Tensor> namedParameters() {
        StringTensorDict dict = named_parameters(true);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (long i = 0; i < dict.size(); i++) {
            // copy: the item's tensor is a reference into `dict`, which is freed with it
            out.put(dict.get(i).key().getString(), new Tensor(dict.get(i).value()));
        }
        return Collections.unmodifiableMap(out);
    }

    /** Copies every parameter value from {@code other} (same architecture) into this model, across devices and dtypes. */
    public void loadStateFrom(QwenVlModel other) {
        Map<String, Tensor> source = other.namedParameters(), target = namedParameters();
        if (!source.keySet().equals(target.keySet())) {
            throw new IllegalArgumentException("loadStateFrom needs the same architecture; this: " + config + ", other: " + other.config);
        }
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             org.bytedeco.pytorch.NoGradGuard noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : target.entrySet()) {
                Tensor from = source.get(e.getKey());
                if (!Arrays.equals(QwenTensors.shape(from), QwenTensors.shape(e.getValue()))) {
                    throw new IllegalArgumentException("parameter " + e.getKey() + " has shape "
                            + Arrays.toString(QwenTensors.shape(from)) + " in the source, " + Arrays.toString(QwenTensors.shape(e.getValue())) + " here");
                }
                e.getValue().copy_(from);
            }
        }
    }

    /**
     * A new model with the same config and a copy of the weights, on the same device and in the
     * same dtype (e.g. the frozen KL reference). Call it outside any {@code PointerScope}.
     */
    public QwenVlModel copy() {
        QwenVlModel clone = new QwenVlModel(config);
        clone.to(device(), lmHead.scalar_type(), false);
        clone.loadStateFrom(this);
        return clone;
    }

    /** Stops gradients to every parameter (a frozen reference); returns this. */
    public QwenVlModel freeze() {
        namedParameters().values().forEach(p -> p.requires_grad_(false));
        return this;
    }

    /** Number of scalar parameters (the tied head counted once). */
    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(Tensor::numel).sum();
    }

    @Override
    public String toString() {
        return "QwenVlModel(" + config.modelType() + ", " + parameterCount() + " parameters)";
    }
}
