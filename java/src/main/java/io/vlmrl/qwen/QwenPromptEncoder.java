package io.vlmrl.qwen;

import io.vlmrl.hf.ChatTemplate;
import io.vlmrl.hf.HfTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Builds Qwen prompts the way the Qwen2.5-VL processor does: a conversation rendered with the
 * model's chat template (generation prompt added) and tokenized, each image's single
 * {@code <|image_pad|>} then expanded to its number of LLM tokens, and the images preprocessed by
 * {@link QwenImageProcessor}. The result is a {@link QwenPrompt} in Java memory.
 *
 * <p>A problem becomes one user turn: its images in order (each {@code {"type": "image"}}) then
 * its question text, under the template's default system prompt (Qwen2.5-VL: "You are a helpful
 * assistant."). Owns no native memory (the tokenizer is the caller's).
 */
public final class QwenPromptEncoder {
    private final HfTokenizer tokenizer;
    private final ChatTemplate template;
    private final QwenImageProcessor processor;
    private final int imagePadId;

    public QwenPromptEncoder(HfTokenizer tokenizer, ChatTemplate template, QwenImageProcessor processor) {
        if (tokenizer == null || template == null || processor == null) {
            throw new IllegalArgumentException("tokenizer, template and processor must not be null");
        }
        if (tokenizer.imagePlaceholderId() < 0) {
            throw new IllegalArgumentException("the tokenizer of " + tokenizer.directory()
                    + " has no image token (image_token_id in config.json)");
        }
        this.tokenizer = tokenizer;
        this.template = template;
        this.processor = processor;
        this.imagePadId = tokenizer.imagePlaceholderId();
    }

    /** One user turn: {@code images} image entries, then the question as text. */
    public static List<Map<String, Object>> userTurn(String question, int images) {
        List<Map<String, Object>> content = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            content.add(Map.of("type", "image"));
        }
        content.add(Map.of("type", "text", "text", question));
        return List.of(Map.of("role", "user", "content", content));
    }

    /**
     * The token ids of {@code messages} rendered with the chat template and the generation prompt,
     * one {@code <|image_pad|>} per image entry (not yet expanded).
     *
     * @throws IllegalArgumentException if the template fails
     */
    public int[] chatIds(List<? extends Map<String, ?>> messages) {
        return tokenizer.encode(template.render(messages, true));
    }

    /**
     * The prompt of {@code ids} (one {@code <|image_pad|>} per image, in order) and its images.
     *
     * @throws IllegalArgumentException if the number of image pads differs from the number of images
     */
    public QwenPrompt encode(int[] ids, List<RgbImage> images) {
        requirePads(ids, images.size());
        if (images.isEmpty()) {
            return new QwenPrompt(longs(ids), new float[0], new long[0][]);
        }
        QwenImageProcessor.Output out = processor.process(images);
        int[] expanded = ChatTemplate.expandImagePads(ids, imagePadId, out.tokensPerImage(processor.mergeSize()));
        long[][] grids = new long[out.numImages()][];
        for (int i = 0; i < grids.length; i++) {
            grids[i] = out.gridThw(i);
        }
        return new QwenPrompt(longs(expanded), out.pixelValues(), grids);
    }

    /**
     * The length a prompt of {@code ids} would have with images of the given sizes, without
     * preprocessing them (for checks).
     *
     * @param heightWidth (height, width) of each image in pixels
     */
    public int expandedLength(int[] ids, List<int[]> heightWidth) {
        requirePads(ids, heightWidth.size());
        long length = ids.length;
        for (int[] hw : heightWidth) {
            length += tokensPerImage(hw[0], hw[1]) - 1;
        }
        return Math.toIntExact(length);
    }

    /** LLM tokens of one image of {@code height} x {@code width} pixels after smart resize. */
    public int tokensPerImage(int height, int width) {
        int[] size = processor.targetSize(height, width);
        long patches = (long) (size[0] / processor.patchSize()) * (size[1] / processor.patchSize());
        return Math.toIntExact(patches / ((long) processor.mergeSize() * processor.mergeSize()));
    }

    /** The image pad id ({@code <|image_pad|>}). */
    public int imagePadId() {
        return imagePadId;
    }

    private void requirePads(int[] ids, int images) {
        int pads = 0;
        for (int id : ids) {
            if (id == imagePadId) {
                pads++;
            }
        }
        if (pads != images) {
            throw new IllegalArgumentException("the prompt holds " + pads + " image placeholder" + (pads == 1 ? "" : "s")
                    + " (<|image_pad|>, id " + imagePadId + ") but " + images + " image" + (images == 1 ? " is" : "s are")
                    + " given; expected one placeholder per image");
        }
    }

    private static long[] longs(int[] ids) {
        return Arrays.stream(ids).asLongStream().toArray();
    }
}
