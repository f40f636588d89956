package io.vlmrl.model;

import io.vlmrl.data.Problem;
import io.vlmrl.policy.DistinctPrompts;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.Policy;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.policy.SamplingStreams;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.SplittableRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in miniature VLM ({@link VisionLanguageModel} + {@link WordTokenizer}) as a
 * {@link Policy}. Prompts are {@code <bos> <image> question-words}, one image per problem, resized
 * to the model's input size; responses are words ending with {@code <eos>}.
 *
 * <p>Native memory: the model's parameters are owned by this object and freed by {@link #close()}.
 */
public final class BuiltinPolicy implements Policy {

    private final VisionLanguageModel model;
    private final WordTokenizer tokenizer;
    private final ResponseGenerator generator;
    private final boolean freezeVision;
    private final boolean sharePromptCompute;

    /**
     * A policy that shares each prompt's compute among its responses ({@code model.share_prompt_compute}).
     *
     * @param freezeVision keep the vision tower and merger fixed: they get no gradients and are
     *                     left out of {@link #trainableParameters()}
     */
    public BuiltinPolicy(VisionLanguageModel model, WordTokenizer tokenizer, boolean freezeVision) {
        this(model, tokenizer, freezeVision, true);
    }

    /**
     * @param sharePromptCompute true: the G samples of a prompt decode from one prefill of it, and in
     *                           training each distinct prompt (its image and its tokens) runs once
     *                           per call, its rows' responses attending to its keys and values;
     *                           false: both are repeated per response (the same results up to float
     *                           rounding; for comparisons)
     */
    public BuiltinPolicy(VisionLanguageModel model, WordTokenizer tokenizer, boolean freezeVision,
                         boolean sharePromptCompute) {
        if (model == null || tokenizer == null) throw new IllegalArgumentException("model and tokenizer must not be null");
        if (tokenizer.vocabSize() != model.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer: expected " + model.config().vocabSize()
                    + " tokens (the model's vocabSize), got " + tokenizer.vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.generator = new ResponseGenerator(model);
        this.freezeVision = freezeVision;
        this.sharePromptCompute = sharePromptCompute;
        if (freezeVision) {
            visionParameters().values().forEach(p -> p.requires_grad_(false));
        }
    }

    /** A fresh model of the {@code model.*} sizes for {@code tokenizer}'s vocabulary; the same seed gives the same weights. */
    public static BuiltinPolicy create(ModelConfig config, WordTokenizer tokenizer, long seed) {
        return new BuiltinPolicy(new VisionLanguageModel(vlmConfig(config, tokenizer), seed), tokenizer, config.freezeVision(),
                config.sharePromptCompute());
    }

    /** The full model configuration of the {@code model.*} keys, with {@code tokenizer}'s vocabulary and special ids. */
    public static VlmConfig vlmConfig(ModelConfig c, WordTokenizer tokenizer) {
        return VlmConfig.builder().tokenizer(tokenizer)
                .imageSize(c.imageSize()).patchSize(c.patchSize()).mergeSize(c.mergeSize())
                .visionWidth(c.visionWidth()).visionLayers(c.visionLayers())
                .hiddenSize(c.hiddenSize()).numLayers(c.layers()).numHeads(c.heads()).numKvHeads(c.heads())
                .intermediateSize(c.intermediateSize())
                .build();
    }

    /** A policy saved by {@link #save} (a {@link Checkpoint} directory), sharing prompt compute. */
    public static BuiltinPolicy load(Path dir, boolean freezeVision) throws IOException {
        return load(dir, freezeVision, true);
    }

    /** A policy saved by {@link #save} (a {@link Checkpoint} directory). */
    public static BuiltinPolicy load(Path dir, boolean freezeVision, boolean sharePromptCompute) throws IOException {
        Checkpoint.Loaded loaded = Checkpoint.load(dir);
        if (loaded.tokenizer() == null) {
            throw new CheckpointException(dir.resolve(Checkpoint.TOKENIZER_FILE), "missing (a policy needs its tokenizer)");
        }
        return new BuiltinPolicy(loaded.model(), loaded.tokenizer(), freezeVision, sharePromptCompute);
    }

    /** Whether {@code dir} holds a built-in model checkpoint. */
    public static boolean isCheckpoint(Path dir) {
        return java.nio.file.Files.isRegularFile(dir.resolve(Checkpoint.WEIGHTS_FILE));
    }

    public VisionLanguageModel model() {
        return model;
    }

    @Override
    public String describe() {
        return "built-in VLM (" + model.parameterCount() + " parameters, " + tokenizer.vocabSize() + "-token vocabulary)";
    }

    @Override
    public WordTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void check(Problem problem) {
        if (problem.images().size() != 1) {
            throw new IllegalArgumentException("problem " + problem.id() + ": the built-in model takes exactly one image per problem, got "
                    + problem.images().size());
        }
        checkText(problem, "question", problem.question());
        checkText(problem, "answer", problem.answer());
        if (problem.workedResponse() != null) checkText(problem, "solution", problem.workedResponse());
    }

    private void checkText(Problem problem, String field, String text) {
        int at = tokenizer.unknownCharacterIndex(text);
        if (at >= 0) {
            throw new IllegalArgumentException("problem " + problem.id() + ": the character '" + text.charAt(at) + "' of its "
                    + field + " has no token in the built-in model's vocabulary (" + tokenizer.vocabSize()
                    + " tokens); a vocabulary built from the training data covers it");
        }
    }

    @Override
    public EncodedPrompt encodePrompt(Problem problem) {
        int[] question = tokenizer.encode(problem.question());
        int[] ids = new int[question.length + 2];
        ids[0] = tokenizer.bosId();
        ids[1] = tokenizer.imagePlaceholderId();
        System.arraycopy(question, 0, ids, 2, question.length);
        BufferedImage image = ImageTensors.resize(problem.image(), model.config().imageSize());
        float[] pixels = ImageTensors.toFloats(List.of(image));
        return new BuiltinPrompt(ids, pixels, ids.length - 1 + model.config().numImageTokens());
    }

    @Override
    public int[] encodeResponse(String response) {
        int[] words = tokenizer.encode(response);
        int[] ids = Arrays.copyOf(words, words.length + 1);
        ids[words.length] = tokenizer.eosId();
        return ids;
    }

    @Override
    public String decodeResponse(int[] ids) {
        return tokenizer.decode(ids);
    }

    @Override
    public GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling) {
        return generate(prompts, samplesPerPrompt, sampling,
                SamplingStreams.of(sampling.seed(), prompts.size() * Math.max(samplesPerPrompt, 0)));
    }

    @Override
    public GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling,
                                       long[] promptSeeds) {
        return generate(prompts, samplesPerPrompt, sampling, SamplingStreams.perPrompt(promptSeeds, prompts.size(), samplesPerPrompt));
    }

    private GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling,
                                        SplittableRandom[] streams) {
        if (samplesPerPrompt < 1) throw new IllegalArgumentException("samplesPerPrompt: expected >= 1, got " + samplesPerPrompt);
        try (PointerScope scope = new PointerScope()) {
            GenerationResult r;
            if (sharePromptCompute) {
                Inputs in = inputs(prompts);
                r = generator.generate(in.pixels, in.ids, null, sampling, streams, samplesPerPrompt);
            } else {
                List<EncodedPrompt> rows = new ArrayList<>(prompts.size() * samplesPerPrompt);
                for (EncodedPrompt p : prompts) rows.addAll(Collections.nCopies(samplesPerPrompt, p));
                Inputs in = inputs(rows);
                r = generator.generate(in.pixels, in.ids, null, sampling, streams);
            }
            // Only the Java arrays of the result are kept; its tensors are freed with the scope.
            return new GeneratedResponses(r.tokens(), r.tokenLogProbs(), r.truncated());
        }
    }

    @Override
    public Tensor responseHidden(List<EncodedPrompt> prompts, Tensor responseIds) {
        if (!sharePromptCompute) {
            Inputs in = inputs(prompts);
            return model.responseHidden(in.pixels, in.ids, null, responseIds);
        }
        // One prompt pass per distinct prompt object (a group's rows share one), its rows attending to it.
        DistinctPrompts<EncodedPrompt> distinct = DistinctPrompts.of(prompts);
        Inputs in = inputs(distinct.prompts());
        return model.responseHiddenSharedPrompts(in.pixels, in.ids, distinct.promptOfRow(), responseIds);
    }

    @Override
    public Tensor responseLogits(List<EncodedPrompt> prompts, Tensor responseIds) {
        return model.logits(responseHidden(prompts, responseIds));
    }

    @Override
    public Tensor lmHeadWeight() {
        return model.lmHeadWeight();
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>(model.namedParameters());
        if (freezeVision) out.keySet().removeAll(visionParameters().keySet());
        return Collections.unmodifiableMap(out);
    }

    private Map<String, Tensor> visionParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (name.startsWith("visual.") || name.startsWith("merger.")) out.put(name, p);
        });
        return out;
    }

    @Override
    public BuiltinPolicy frozenCopy() {
        return new BuiltinPolicy(model.copy().freeze(), tokenizer, freezeVision, sharePromptCompute);
    }

    @Override
    public void save(Path dir) throws IOException {
        Checkpoint.save(dir, model, tokenizer);
    }

    @Override
    public void loadWeights(Path dir) throws IOException {
        Checkpoint.loadWeights(dir.resolve(Checkpoint.WEIGHTS_FILE), model);
    }

    @Override
    public Device device() {
        return model.device();
    }

    @Override
    public void close() {
        model.close();
    }

    /** Pixels [N, 3, H, W] and left-padded prompt ids [N, P] of N prompts. */
    private record Inputs(Tensor pixels, Tensor ids) {}

    private Inputs inputs(List<EncodedPrompt> rows) {
        if (rows.isEmpty()) throw new IllegalArgumentException("prompts: expected at least one row, got 0");
        int maxLen = 0;
        for (EncodedPrompt p : rows) maxLen = Math.max(maxLen, cast(p).ids().length);
        int n = rows.size();
        long[] ids = new long[n * maxLen];
        Arrays.fill(ids, tokenizer.padId());
        int plane = cast(rows.get(0)).pixels().length;
        float[] pixels = new float[n * plane];
        for (int r = 0; r < n; r++) {
            BuiltinPrompt p = cast(rows.get(r));
            int offset = r * maxLen + (maxLen - p.ids().length); // left padding
            for (int i = 0; i < p.ids().length; i++) ids[offset + i] = p.ids()[i];
            System.arraycopy(p.pixels(), 0, pixels, r * plane, plane);
        }
        int side = model.config().imageSize();
        return new Inputs(Tensor.create(pixels, n, 3, side, side), torch.tensor(ids).view(n, maxLen));
    }

    private static BuiltinPrompt cast(EncodedPrompt p) {
        if (p instanceof BuiltinPrompt b) return b;
        throw new IllegalArgumentException("prompt: expected one encoded by the built-in policy, got " + p.getClass().getName());
    }
}
