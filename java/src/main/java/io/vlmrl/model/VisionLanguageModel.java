package io.vlmrl.model;

import io.vlmrl.nn.PromptKv;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The policy: {@link VisionEncoder} -> {@link Projector} -> {@link LanguageModel}, with the image
 * tokens spliced into the prompt at its image placeholder.
 *
 * <h2>Inputs</h2>
 * <ul>
 *   <li>{@code pixels} [B, C, H, W] float32 in [0, 1] (the model normalises them), or null for text only;</li>
 *   <li>{@code promptIds} [B, P] int64, left-padded, one image placeholder per row among the real tokens;</li>
 *   <li>{@code promptMask} [B, P] (any dtype, nonzero = real token), or null to take {@code promptIds != padId};</li>
 *   <li>{@code responseIds} [B, T] int64, right-padded (padding only after the real tokens).</li>
 * </ul>
 * The expanded prompt has P' = P + numImageTokens - 1 positions. RoPE positions count real tokens
 * only, so left padding never changes a sequence's result, and padded keys are never attended.
 *
 * <h2>Outputs</h2>
 * {@link #responseLogits} [B, T, V] float32: row t is the distribution of response token t given
 * the prompt and response tokens before t. {@link #responseHidden} [B, T, D] are the same states
 * before the LM head ({@link #lmHeadWeight()} [V, D]; logits = hidden · Wᵀ), for the fused
 * log-prob kernel.
 *
 * <p>Native memory: build models outside any {@code PointerScope} (they hold their parameters in
 * Java fields).
 */
public final class VisionLanguageModel extends Module {
    private final VlmConfig config;
    private final VisionEncoder visual;
    private final Projector merger;
    private final LanguageModel language;

    /** A freshly initialised model (seed 0). */
    public VisionLanguageModel(VlmConfig config) {
        this(config, 0L);
    }

    /** A freshly initialised model; the same config and seed always give the same weights. */
    public VisionLanguageModel(VlmConfig config, long seed) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        this.config = config;
        Init init = new Init(seed);
        visual = register_module("visual", new VisionEncoder(config, init));
        merger = register_module("merger", new Projector(config, init));
        language = register_module("language", new LanguageModel(config, init));
    }

    public VlmConfig config() {
        return config;
    }

    public VisionEncoder visionEncoder() {
        return visual;
    }

    public Projector projector() {
        return merger;
    }

    public LanguageModel languageModel() {
        return language;
    }

    /** Device of the parameters. */
    public Device device() {
        return language.lmHeadWeight().device();
    }

    /** pixels [B, C, H, W] in [0, 1] -> image tokens [B, numImageTokens, hiddenSize]. */
    public Tensor encodeImages(Tensor pixels) {
        return merger.forward(visual.forward(pixels));
    }

    /** The LM head matrix [V, D]; logits = hidden · Wᵀ. */
    public Tensor lmHeadWeight() {
        return language.lmHeadWeight();
    }

    /** hidden [..., D] -> logits [..., V]. */
    public Tensor logits(Tensor hidden) {
        return language.logits(hidden);
    }

    /** Logits [B, T, V] of the response tokens (teacher forcing); see the class comment for the inputs. */
    public Tensor responseLogits(Tensor pixels, Tensor promptIds, Tensor promptMask, Tensor responseIds) {
        return logits(responseHidden(pixels, promptIds, promptMask, responseIds));
    }

    /**
     * Final hidden states [B, T, D] whose LM-head projection predicts response token t at row t.
     * The last response token is never fed in (nothing is predicted from it).
     */
    public Tensor responseHidden(Tensor pixels, Tensor promptIds, Tensor promptMask, Tensor responseIds) {
        long t = responseLength(responseIds);
        Prompt prompt = embedPrompt(pixels, promptIds, promptMask);
        long b = prompt.embeds().size(0);
        if (responseIds.size(0) != b) {
            throw new IllegalArgumentException("responseIds must have B = " + b + " rows (as promptIds), got " + responseIds.size(0));
        }
        requireFits(prompt, t);
        Tensor responseIn = responseIds.narrow(1, 0, t - 1);
        Tensor embeds = torch.cat(new TensorVector(prompt.embeds(), language.embed(responseIn)), 1);
        Tensor valid = torch.cat(new TensorVector(prompt.valid(),
                torch.ones(b, t - 1).to(prompt.valid().device(), torch.ScalarType.Bool)), 1);
        Tensor hidden = language.forward(embeds, positionsOf(valid), causalMask(valid), null);
        return hidden.narrow(1, prompt.length() - 1, t);
    }

    /**
     * {@link #responseHidden(Tensor, Tensor, Tensor, Tensor)} of responses that share prompts:
     * row i continues prompt {@code rowPrompt[i]}. Each distinct prompt (its image and its
     * tokens) runs once; the responses then attend to its keys and values. The hidden states
     * equal those of repeating each prompt per row (up to float rounding), and so do the
     * gradients: a prompt's share of every row's gradient adds up in its one pass.
     *
     * @param pixels    [U, C, H, W] one image per distinct prompt
     * @param promptIds [U, P] left-padded distinct prompts (pad id = padding)
     * @param rowPrompt [B] the prompt of each response row, in [0, U)
     * @param responseIds [B, T]
     */
    public Tensor responseHiddenSharedPrompts(Tensor pixels, Tensor promptIds, long[] rowPrompt, Tensor responseIds) {
        long b = responseIds.size(0), t = responseLength(responseIds);
        if (rowPrompt.length != b) {
            throw new IllegalArgumentException("rowPrompt: expected one prompt index per response row (" + b + "), got "
                    + rowPrompt.length);
        }
        long prompts = promptIds.size(0);
        for (int i = 0; i < rowPrompt.length; i++) {
            if (rowPrompt[i] < 0 || rowPrompt[i] >= prompts) {
                throw new IllegalArgumentException("rowPrompt[" + i + "]: expected an index in [0, " + prompts
                        + ") (the rows of promptIds), got " + rowPrompt[i]);
            }
        }
        Prompt prompt = embedPrompt(pixels, promptIds, null);
        long p = prompt.length();
        requireFits(prompt, t);
        Device device = device();
        PromptKv kv = new PromptKv(config.numLayers());
        Tensor promptHidden = language.forward(prompt.embeds(), positionsOf(prompt.valid()), causalMask(prompt.valid()), kv);
        Tensor rows = Tensors.longs(rowPrompt, device, b);
        Tensor last = promptHidden.select(1, p - 1).index_select(0, rows).unsqueeze(1); // predicts response token 0
        if (t == 1) return last;

        // Response tokens 0 .. T-2 after the prompt's real tokens: positions count on from them, each
        // sees its prompt's real tokens and the response tokens up to itself.
        int l = (int) t - 1;
        long[] positions = new long[(int) b * l];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < l; j++) positions[r * l + j] = prompt.validCounts()[(int) rowPrompt[r]] + j;
        }
        Tensor hidden = language.forward(language.embed(responseIds.narrow(1, 0, l).to(device, torch.ScalarType.Long)),
                Tensors.longs(positions, device, b, l), PromptKv.responseMask(prompt.valid(), rows, l), kv.forRows(rows));
        return torch.cat(new TensorVector(last, hidden), 1);
    }

    /** T of responseIds [B, T], at least 1. */
    private static long responseLength(Tensor responseIds) {
        Tensors.requireDims("responseIds", responseIds, 2, "[B, T]");
        long t = responseIds.size(1);
        if (t < 1) {
            throw new IllegalArgumentException("responseIds must have at least one token per row, got T = " + t);
        }
        return t;
    }

    /** The prompt and the first T - 1 response tokens (the ones fed in) must fit the positions. */
    private void requireFits(Prompt prompt, long t) {
        long total = prompt.length() + t - 1;
        if (total > config.maxSeqLen()) {
            throw new IllegalArgumentException("prompt (" + prompt.length() + " positions with image tokens) + response ("
                    + t + ") - 1 must be <= maxSeqLen " + config.maxSeqLen() + ", got " + total);
        }
    }

    /** The expanded prompt: embeddings [B, P', D] and validity [B, P'] (false at left padding). */
    record Prompt(Tensor embeds, Tensor valid, long[] validCounts) {
        long length() {
            return embeds.size(1);
        }
    }

    /** Embeds the prompt text and splices each row's image tokens in place of its placeholder. */
    Prompt embedPrompt(Tensor pixels, Tensor promptIds, Tensor promptMask) {
        Tensors.requireDims("promptIds", promptIds, 2, "[B, P]");
        int b = (int) promptIds.size(0), p = (int) promptIds.size(1);
        if (b < 1 || p < 1) {
            throw new IllegalArgumentException("promptIds must be non-empty [B, P], got [" + b + ", " + p + "]");
        }
        Device device = device();
        long[] ids = Tensors.toLongs(promptIds);
        boolean[] mask = new boolean[ids.length];
        if (promptMask == null) {
            for (int i = 0; i < ids.length; i++) {
                mask[i] = ids[i] != config.padId();
            }
        } else {
            Tensors.requireDims("promptMask", promptMask, 2, "[B, P] like promptIds [" + b + ", " + p + "]");
            if (promptMask.size(0) != b || promptMask.size(1) != p) {
                throw new IllegalArgumentException("promptMask must be [" + b + ", " + p + "] like promptIds, got "
                        + java.util.Arrays.toString(Tensors.shape(promptMask)));
            }
            float[] m = Tensors.toFloats(promptMask);
            for (int i = 0; i < m.length; i++) {
                mask[i] = m[i] != 0f;
            }
        }
        int imageTokens = pixels == null ? 0 : config.numImageTokens();
        if (pixels != null && pixels.dim() >= 1 && pixels.size(0) != b) {
            throw new IllegalArgumentException("pixels must have B = " + b + " images (one per prompt), got " + pixels.size(0));
        }
        PromptLayout layout = PromptLayout.of(ids, mask, b, p, imageTokens, config.imageTokenId(), config.vocabSize());
        Tensor idsOnDevice = promptIds.to(device, torch.ScalarType.Long);
        Tensor table = language.embed(idsOnDevice).reshape(-1, config.hiddenSize());
        if (pixels != null) {
            Tensor images = encodeImages(pixels.to(device, torch.ScalarType.Float)).reshape(-1, config.hiddenSize());
            table = torch.cat(new TensorVector(table, images), 0);
        }
        Tensor sources = Tensors.longs(layout.sources(), device, layout.sources().length);
        Tensor embeds = table.index_select(0, sources).view(b, layout.length(), config.hiddenSize());
        Tensor valid = Tensors.bools(layout.valid(), device, b, layout.length());
        long[] counts = new long[b];
        for (int i = 0; i < layout.valid().length; i++) {
            if (layout.valid()[i]) {
                counts[i / layout.length()]++;
            }
        }
        return new Prompt(embeds, valid, counts);
    }

    /** RoPE positions [B, L] int64: the number of real tokens before each position (0 on left padding). */
    static Tensor positionsOf(Tensor valid) {
        return valid.to(torch.ScalarType.Long).cumsum(1).sub(new org.bytedeco.pytorch.Scalar(1L))
                .clamp_min(new org.bytedeco.pytorch.Scalar(0L));
    }

    /**
     * Attention mask [B, 1, L, L] (true = may attend): causal, padded keys hidden. Each position
     * always sees itself, so that rows of padding stay finite (their outputs are never used).
     */
    static Tensor causalMask(Tensor valid) {
        long l = valid.size(1);
        Tensor ones = torch.ones(l, l).to(valid.device(), torch.ScalarType.Bool);
        Tensor causal = ones.tril();
        Tensor self = torch.eye(l).to(valid.device(), torch.ScalarType.Bool);
        return valid.unsqueeze(1).logical_or(self).logical_and(causal).unsqueeze(1);
    }

    /** Every parameter by its dotted name, in registration order. */
    public Map<String, Tensor> namedParameters() {
        StringTensorDict dict = named_parameters(true);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (long i = 0; i < dict.size(); i++) {
            // Copy: the item's tensor is a reference into `dict`, which is freed with it.
            out.put(dict.get(i).key().getString(), new Tensor(dict.get(i).value()));
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Parameters split for AdamW weight decay (nanoGPT's rule): matrices and embeddings (dim >= 2)
     * decay; biases and norm weights (dim < 2) do not.
     */
    public ParameterGroups parameterGroups() {
        Map<String, Tensor> decay = new LinkedHashMap<>(), noDecay = new LinkedHashMap<>();
        namedParameters().forEach((name, p) -> (p.dim() >= 2 ? decay : noDecay).put(name, p));
        return new ParameterGroups(Collections.unmodifiableMap(decay), Collections.unmodifiableMap(noDecay));
    }

    /** Parameters with and without weight decay, by name. */
    public record ParameterGroups(Map<String, Tensor> decay, Map<String, Tensor> noDecay) {
        public TensorVector decayVector() {
            return new TensorVector(decay.values().toArray(new Tensor[0]));
        }

        public TensorVector noDecayVector() {
            return new TensorVector(noDecay.values().toArray(new Tensor[0]));
        }
    }

    /** Number of scalar parameters. */
    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(Tensor::numel).sum();
    }

    /** Copies every parameter value from {@code other} (same config) into this model. */
    public void loadStateFrom(VisionLanguageModel other) {
        if (!config.equals(other.config)) {
            throw new IllegalArgumentException("loadStateFrom needs the same config; this: " + config + ", other: " + other.config);
        }
        Map<String, Tensor> source = other.namedParameters();
        try (NoGradGuard ignored = new NoGradGuard()) {
            namedParameters().forEach((name, p) -> p.copy_(source.get(name)));
        }
    }

    /** A new model with the same config and a copy of the weights, on the same device. */
    public VisionLanguageModel copy() {
        VisionLanguageModel clone = new VisionLanguageModel(config);
        clone.to(device(), false);
        clone.loadStateFrom(this);
        return clone;
    }

    /** Stops gradients to every parameter (for the frozen reference model); returns this. */
    public VisionLanguageModel freeze() {
        namedParameters().values().forEach(p -> p.requires_grad_(false));
        return this;
    }

    @Override
    public String toString() {
        return "VisionLanguageModel(" + parameterCount() + " parameters, " + config + ")";
    }
}
