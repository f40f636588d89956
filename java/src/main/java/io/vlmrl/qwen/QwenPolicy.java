package io.vlmrl.qwen;

import io.vlmrl.nn.PromptKv;
import io.vlmrl.data.ImageSource;
import io.vlmrl.data.Problem;
import io.vlmrl.hf.HfTokenizer;
import io.vlmrl.hf.SafeDtype;
import io.vlmrl.hf.SafeTensorsWriter;
import io.vlmrl.model.SaveDtype;
import io.vlmrl.model.WeightDtype;
import io.vlmrl.policy.DistinctPrompts;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.Policy;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.policy.SamplingStreams;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face Qwen2.5-VL / Qwen2-VL model ({@link QwenVlModel} with its tokenizer, chat template
 * and image processor) as a {@link Policy}, so the SFT trainer, the RL trainer and the evaluator
 * train and evaluate it like the built-in model.
 *
 * <h2>Prompts and responses</h2>
 * A problem's prompt is the chat template applied to one user turn, its images (in order) then its
 * question text, with the template's default system prompt and the generation prompt; each image's
 * {@code <|image_pad|>} is expanded to its token count and the images go through
 * {@link QwenImageProcessor} at any size ({@link QwenPromptEncoder}). A response ends with the
 * end-of-turn token, the first end id of {@code generation_config.json} / {@code config.json}
 * ({@code <|im_end|>} for Qwen2.5-VL); generation stops at any of the end ids those files give.
 *
 * <h2>Teacher forcing</h2>
 * {@link #responseHidden} computes what a pass over [left padding, prompt, response] per row gives
 * (the prompts left-padded to the longest, every non-padding token attended under the causal mask,
 * M-RoPE positions from the prompt, response tokens counting as text) and returns the hidden
 * states of the positions that predict the response tokens. It runs each distinct prompt object
 * once (rows of one group share one {@link EncodedPrompt} object): the vision tower over its
 * images and the language model over its tokens; each response row then attends to its prompt's
 * keys and values ({@code io.vlmrl.nn.PromptKv}), so the gradients of a prompt add up over its
 * rows, as with one pass per row. Response padding is attended like real tokens: it comes after
 * every real token of its row, so under the causal mask no real position sees it.
 *
 * <h2>Dtypes</h2>
 * Parameters are held in {@link Options#dtype()} ({@code model.dtype}). {@link #responseHidden} is
 * cast to float32 and {@link #responseLogits} multiplies it by the LM head cast to float32, so the
 * logits, log-probs and the loss are float32 in either case. Saving writes the checkpoint's own
 * dtype unless {@link Options#saveDtype()} says otherwise.
 *
 * <h2>Native memory</h2>
 * The parameters are owned by this object (freed by {@link #close()}); the tokenizer is shared with
 * the frozen copies ({@link QwenModelFiles}) and freed with the last of them. Tensors returned by
 * {@link #responseHidden} and {@link #responseLogits} belong to the caller's {@code PointerScope}.
 * Build, copy and close policies outside any {@code PointerScope}.
 */
public final class QwenPolicy implements Policy {

    /**
     * How a policy is loaded and saved.
     *
     * @param freezeVision  keep the vision tower and its merger fixed: no gradients, left out of
     *                      {@link #trainableParameters()}
     * @param dtype         the parameters' dtype
     * @param saveDtype     the dtype {@link #save} writes ({@link SaveDtype#AUTO}: the checkpoint's)
     * @param maxShardBytes the largest safetensors shard {@link #save} writes
     */
    public record Options(boolean freezeVision, WeightDtype dtype, SaveDtype saveDtype, long maxShardBytes) {
        public Options {
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(saveDtype, "saveDtype");
            if (maxShardBytes <= 0) {
                throw new IllegalArgumentException("maxShardBytes: expected > 0, got " + maxShardBytes);
            }
        }

        /** Trainable vision, float32 weights, saved in the checkpoint's dtype in 5 GB shards. */
        public static Options defaults() {
            return new Options(false, WeightDtype.FLOAT32, SaveDtype.AUTO, QwenCheckpoint.DEFAULT_MAX_SHARD_BYTES);
        }

        public Options withFreezeVision(boolean freeze) {
            return new Options(freeze, dtype, saveDtype, maxShardBytes);
        }

        public Options withDtype(WeightDtype d) {
            return new Options(freezeVision, d, saveDtype, maxShardBytes);
        }

        public Options withSave(SaveDtype d, long shardBytes) {
            return new Options(freezeVision, dtype, d, shardBytes);
        }
    }

    private final QwenModelFiles files;
    private final QwenVlModel model;
    private final QwenGenerator generator;
    private final QwenPromptEncoder encoder;
    private final Options options;
    private final int[] stopIds;
    private final int endOfTurnId;
    private boolean closed;

    private QwenPolicy(QwenModelFiles files, QwenVlModel model, Options options) {
        this.files = files;
        this.model = model;
        this.options = options;
        this.generator = new QwenGenerator(model);
        this.encoder = new QwenPromptEncoder(files.tokenizer(), files.chatTemplate(), files.processor());
        this.stopIds = files.tokenizer().eosIds().stream().mapToInt(Integer::intValue).toArray();
        this.endOfTurnId = files.tokenizer().eosId();
        if (options.freezeVision()) {
            visionParameters().values().forEach(p -> p.requires_grad_(false));
        }
    }

    /** {@link #load(Path, Options)} with the given vision freezing and dtype, saving as the checkpoint is stored. */
    public static QwenPolicy load(Path dir, boolean freezeVision, WeightDtype dtype) throws IOException {
        return load(dir, Options.defaults().withFreezeVision(freezeVision).withDtype(dtype));
    }

    /**
     * Loads a Hugging Face model directory: {@code config.json} ({@code model_type} qwen2_5_vl or
     * qwen2_vl), the safetensors weights (single file or shards), {@code tokenizer.json} with
     * {@code tokenizer_config.json}, the chat template ({@code chat_template.jinja},
     * {@code chat_template.json} or {@code tokenizer_config.json}), {@code preprocessor_config.json}
     * and, when present, {@code generation_config.json}. The model lives on the CPU.
     *
     * @throws IllegalArgumentException naming the file that is missing or wrong
     * @throws IOException              when the weights cannot be read or do not fit the config
     */
    public static QwenPolicy load(Path dir, Options options) throws IOException {
        QwenModelFiles files = QwenModelFiles.read(dir);
        QwenVlModel model = null;
        try {
            model = new QwenVlModel(files.config());
            if (options.dtype() != WeightDtype.FLOAT32) {
                model.to(model.device(), options.dtype().scalarType(), false);
            }
            QwenCheckpoint.loadWeights(dir, model);
            return new QwenPolicy(files, model, options);
        } catch (IOException | RuntimeException e) {
            if (model != null) {
                model.close();
            }
            files.close();
            throw e;
        }
    }

    /** Whether {@code dir} looks like a Hugging Face model directory (config.json and safetensors weights). */
    public static boolean isModelDir(Path dir) {
        return QwenModelFiles.holdsModel(dir);
    }

    public QwenVlModel model() {
        return model;
    }

    public Options options() {
        return options;
    }

    /** The directory the model was loaded from. */
    public Path sourceDirectory() {
        return files.directory();
    }

    @Override
    public String describe() {
        return String.format("%s (%s, %,d parameters, %s weights) from %s", files.config().isQwen25() ? "Qwen2.5-VL" : "Qwen2-VL",
                files.config().modelType(), model.parameterCount(), options.dtype().configName(), files.directory());
    }

    @Override
    public HfTokenizer tokenizer() {
        return files.tokenizer();
    }

    /**
     * Checks that every image of {@code problem} decodes and that its prompt, images expanded,
     * leaves room for a response within {@code max_position_embeddings}. Text-only problems are
     * fine (Qwen takes them).
     */
    @Override
    public void check(Problem problem) {
        List<int[]> sizes = new ArrayList<>();
        for (int i = 0; i < problem.images().size(); i++) {
            ImageSource source = problem.images().get(i);
            BufferedImage image;
            try {
                image = source.load();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("problem " + problem.id() + ": image " + (i + 1) + " (" + source.describe()
                        + ") cannot be read: " + e.getMessage(), e);
            }
            sizes.add(new int[] {image.getHeight(), image.getWidth()});
        }
        int length;
        try {
            length = encoder.expandedLength(encoder.chatIds(QwenPromptEncoder.userTurn(problem.question(), sizes.size())), sizes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("problem " + problem.id() + ": " + e.getMessage(), e);
        }
        int max = files.config().text().maxPositionEmbeddings();
        if (length >= max) {
            throw new IllegalArgumentException("problem " + problem.id() + ": its prompt takes " + length + " positions (images "
                    + "included) but the model takes at most " + max + " (max_position_embeddings in "
                    + files.directory().resolve(QwenModelFiles.CONFIG_FILE) + "), response included; use smaller images "
                    + "(max_pixels in preprocessor_config.json) or a shorter question");
        }
    }

    @Override
    public EncodedPrompt encodePrompt(Problem problem) {
        List<RgbImage> images = new ArrayList<>(problem.images().size());
        for (ImageSource source : problem.images()) {
            images.add(RgbImage.fromBufferedImage(source.load()));
        }
        try {
            return new QwenEncodedPrompt(encoder.encode(encoder.chatIds(QwenPromptEncoder.userTurn(problem.question(), images.size())), images));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("problem " + problem.id() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The prompt of a whole conversation ({@code role} / {@code content} maps, content a string or a
     * list of {@code {"type": "image"}} and {@code {"type": "text", "text": ...}} entries), rendered
     * with the chat template and the generation prompt; {@code images} fill the image entries in order.
     *
     * @throws IllegalArgumentException if the template fails or the image entries and images differ in number
     */
    public EncodedPrompt encodeChat(List<? extends Map<String, ?>> messages, List<RgbImage> images) {
        return new QwenEncodedPrompt(encoder.encode(encoder.chatIds(messages), images));
    }

    /**
     * The prompt of token ids holding one {@code <|image_pad|>} per image (expanded here to the
     * image's token count), and the images.
     *
     * @throws IllegalArgumentException if an id is outside the vocabulary or pads and images differ in number
     */
    public EncodedPrompt encodePromptIds(int[] ids, List<RgbImage> images) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("prompt ids: expected at least one token, got none");
        }
        for (int i = 0; i < ids.length; i++) {
            checkId("prompt ids", i, ids[i]);
        }
        return new QwenEncodedPrompt(encoder.encode(ids, images));
    }

    /** The {@link QwenPrompt} behind a prompt this policy encoded. */
    public static QwenPrompt qwenPrompt(EncodedPrompt prompt) {
        if (prompt instanceof QwenEncodedPrompt q) {
            return q.prompt();
        }
        throw new IllegalArgumentException("prompt: expected one encoded by a Qwen policy, got "
                + (prompt == null ? "null" : prompt.getClass().getName()));
    }

    /** The response's tokens followed by the end-of-turn token ({@code <|im_end|>}). */
    @Override
    public int[] encodeResponse(String response) {
        int[] text = files.tokenizer().encode(response);
        int[] ids = Arrays.copyOf(text, text.length + 1);
        ids[text.length] = endOfTurnId;
        return ids;
    }

    /** The text of {@code ids}, special tokens (end of turn, padding) skipped. */
    @Override
    public String decodeResponse(int[] ids) {
        return files.tokenizer().decode(ids);
    }

    /** The tokens that end generation (every end id of the model's files). */
    public int[] stopIds() {
        return stopIds.clone();
    }

    /** The token {@link #encodeResponse} appends: the first end id. */
    public int endOfTurnId() {
        return endOfTurnId;
    }

    @Override
    public GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling) {
        List<QwenPrompt> rows = new ArrayList<>(prompts.size());
        for (EncodedPrompt p : prompts) {
            rows.add(qwenPrompt(p));
        }
        return generator.generate(rows, samplesPerPrompt, sampling, stopIds);
    }

    @Override
    public GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling,
                                       long[] promptSeeds) {
        List<QwenPrompt> rows = new ArrayList<>(prompts.size());
        for (EncodedPrompt p : prompts) {
            rows.add(qwenPrompt(p));
        }
        return generator.generate(rows, samplesPerPrompt, sampling, stopIds,
                SamplingStreams.perPrompt(promptSeeds, prompts.size(), samplesPerPrompt));
    }

    /** Final hidden states [B, T, D], float32; see the class comment for the layout. */
    @Override
    public Tensor responseHidden(List<EncodedPrompt> prompts, Tensor responseIds) {
        QwenTensors.requireDims("responseIds", responseIds, 2, "[B, T]");
        int b = (int) responseIds.size(0), t = (int) responseIds.size(1);
        if (prompts.size() != b) {
            throw new IllegalArgumentException("prompts: expected one per row of responseIds (" + b + "), got " + prompts.size());
        }
        if (t < 1) {
            throw new IllegalArgumentException("responseIds: expected at least one token per row, got shape [" + b + ", " + t + "]");
        }
        long[] response = QwenTensors.toLongs(responseIds);
        for (int i = 0; i < response.length; i++) {
            checkId("responseIds", i, response[i]);
        }
        // Each distinct prompt runs once (left-padded to the longest); every response row then attends to
        // its prompt's keys and values, so a group's prompt costs one pass however many rows share it.
        List<QwenPrompt> rows = new ArrayList<>(b);
        for (EncodedPrompt p : prompts) {
            rows.add(qwenPrompt(p));
        }
        DistinctPrompts<QwenPrompt> distinct = DistinctPrompts.of(rows);
        QwenPromptBatch batch = QwenPromptBatch.of(distinct.prompts(), model);
        PromptKv kv = new PromptKv(files.config().text().numLayers());
        QwenVlModel.PromptPass pass = model.forwardPrompts(batch.ids(), batch.mask(), batch.imageEmbeds(), batch.grids(), kv);
        Device device = model.device();
        Tensor rowPrompt = QwenTensors.longs(distinct.promptOfRow(), device, b);
        Tensor last = pass.hidden().select(1, batch.length() - 1).index_select(0, rowPrompt).unsqueeze(1); // predicts token 0
        if (t == 1) {
            return last.to(torch.ScalarType.Float);
        }
        // Response tokens 0 .. T-2: text positions counting on from each prompt's next position on all
        // three M-RoPE axes.
        int l = t - 1;
        long[] next = pass.rope().nextPositions();
        long[] positions = new long[3 * b * l];
        long[] input = new long[b * l];
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < l; j++) {
                for (int axis = 0; axis < 3; axis++) {
                    positions[(axis * b + r) * l + j] = next[(int) distinct.promptOfRow()[r]] + j;
                }
                input[r * l + j] = response[r * t + j];
            }
        }
        Tensor hidden = model.language().forward(model.language().embed(QwenTensors.longs(input, device, b, l)),
                QwenTensors.longs(positions, device, 3, b, l), PromptKv.responseMask(pass.valid(), rowPrompt, l),
                kv.forRows(rowPrompt), null);
        return torch.cat(new TensorVector(last, hidden), 1).to(torch.ScalarType.Float);
    }

    /** Float32 logits [B, T, V]: the float32 hidden states times the LM head cast to float32. */
    @Override
    public Tensor responseLogits(List<EncodedPrompt> prompts, Tensor responseIds) {
        return torch.linear(responseHidden(prompts, responseIds), model.lmHeadWeight().to(torch.ScalarType.Float));
    }

    /** The LM head [V, D] in the parameters' dtype (the token embedding: Qwen2.5-VL-3B ties them). */
    @Override
    public Tensor lmHeadWeight() {
        return model.lmHeadWeight();
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>(model.namedParameters());
        if (options.freezeVision()) {
            out.keySet().removeAll(visionParameters().keySet());
        }
        return Collections.unmodifiableMap(out);
    }

    /** The vision tower and its merger ({@code visual.*}). */
    private Map<String, Tensor> visionParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> {
            if (name.startsWith("visual.")) {
                out.put(name, p);
            }
        });
        return out;
    }

    /** A copy of the weights without gradients, sharing the tokenizer and files; close it before this policy's last holder. */
    @Override
    public QwenPolicy frozenCopy() {
        QwenVlModel copy = model.copy().freeze();
        return new QwenPolicy(files.retain(), copy, options);
    }

    /**
     * Saves in the Hugging Face layout: the weights as safetensors ({@link Options#saveDtype()},
     * sharded at {@link Options#maxShardBytes()}), {@code config.json} with that {@code torch_dtype},
     * and the tokenizer, chat-template, processor and generation files of the source directory,
     * unchanged. The directory loads again here, in transformers and in vLLM.
     */
    @Override
    public void save(Path dir) throws IOException {
        SafeDtype dtype = options.saveDtype() == SaveDtype.AUTO ? files.storedDtype() : options.saveDtype().safeDtype();
        QwenCheckpoint.save(model, dir, dtype, options.maxShardBytes());
        for (Map.Entry<String, byte[]> e : files.companions().entrySet()) {
            SafeTensorsWriter.writeAtomically(dir.resolve(e.getKey()), e.getValue());
        }
    }

    /** Replaces the weights with those of model directory {@code dir} (same architecture), e.g. a training checkpoint. */
    @Override
    public void loadWeights(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("expected a model directory to load weights from, got '" + dir + "'");
        }
        QwenCheckpoint.loadWeights(dir, model);
    }

    @Override
    public Device device() {
        return model.device();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            model.close();
            files.close();
        }
    }

    private void checkId(String what, int index, long id) {
        int vocab = files.config().text().vocabSize();
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException(what + "[" + index + "] = " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
    }

    /** A {@link QwenPrompt} as the trainers hold it (Java memory only). */
    private record QwenEncodedPrompt(QwenPrompt prompt) implements EncodedPrompt {
        @Override
        public int length() {
            return prompt.length();
        }
    }
}
