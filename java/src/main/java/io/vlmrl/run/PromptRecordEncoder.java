package io.vlmrl.run;

import io.vlmrl.data.ImageSource;
import io.vlmrl.data.Problem;
import io.vlmrl.model.BuiltinPolicy;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.Policy;
import io.vlmrl.qwen.QwenPolicy;
import io.vlmrl.qwen.QwenPromptEncoder;
import io.vlmrl.qwen.RgbImage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@link PromptRecord}s into a policy's prompts and response ids.
 *
 * <ul>
 *   <li>A {@link QwenPolicy} takes every form: {@code prompt} as one user turn (images, then the
 *       stripped text) exactly as training prompts are built, {@code messages} rendered with the chat
 *       template, {@code prompt_ids} with each image placeholder expanded; {@code response} gets the
 *       end-of-turn token appended ({@link Policy#encodeResponse}).</li>
 *   <li>Any other policy (the built-in model) takes the {@code prompt} form, as a problem's question
 *       with the record's images ({@link Policy#encodePrompt}), after {@link Policy#check}.</li>
 * </ul>
 * Response ids are checked against the vocabulary. Errors name the record's {@code file:line}.
 */
public final class PromptRecordEncoder {
    private final Policy policy;

    public PromptRecordEncoder(Policy policy) {
        if (policy == null) {
            throw new IllegalArgumentException("policy must not be null");
        }
        this.policy = policy;
    }

    /** The record's prompt in the policy's format. */
    public EncodedPrompt prompt(PromptRecord record) {
        try {
            if (policy instanceof QwenPolicy qwen) {
                List<RgbImage> images = images(record);
                if (record.prompt() != null) {
                    // stripped like the questions of training data (JsonlDataset), so prompts match training's
                    return qwen.encodeChat(QwenPromptEncoder.userTurn(record.prompt().strip(), images.size()), images);
                }
                if (record.messages() != null) {
                    return qwen.encodeChat(record.messages(), images);
                }
                return qwen.encodePromptIds(record.promptIds(), images);
            }
            if (record.prompt() == null) {
                throw new IllegalArgumentException("\"" + (record.messages() != null ? "messages" : "prompt_ids") + "\" needs a "
                        + "Hugging Face model with a chat template; " + policy.describe() + " takes \"prompt\" (its question) and its images");
            }
            List<ImageSource> sources = new ArrayList<>();
            for (Path p : record.images()) {
                sources.add(ImageSource.file(p));
            }
            Problem problem = new Problem(record.where(), sources, record.prompt().strip(), "", Problem.UNTYPED, 0, null);
            policy.check(problem);
            return policy.encodePrompt(problem);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith(record.where()) || e.getMessage().contains("problem " + record.where())
                    ? e.getMessage() : record.where() + ": " + e.getMessage(), e);
        }
    }

    /** The record's response ids: {@code response_ids} as given, or the encoded {@code response} with its end token. */
    public int[] response(PromptRecord record) {
        if (!record.hasResponse()) {
            throw new IllegalArgumentException(record.where() + ": no \"response\" or \"response_ids\" to score");
        }
        if (record.response() != null) {
            return policy.encodeResponse(record.response());
        }
        int vocab = policy.tokenizer().vocabSize();
        int[] ids = record.responseIds();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= vocab) {
                throw new IllegalArgumentException(record.where() + ": response_ids[" + i + "] = " + ids[i]
                        + " is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        return ids.clone();
    }

    private static List<RgbImage> images(PromptRecord record) {
        List<RgbImage> out = new ArrayList<>();
        for (Path p : record.images()) {
            try {
                out.add(RgbImage.read(p));
            } catch (IOException e) {
                throw new IllegalArgumentException("image file " + p + " cannot be read: " + e.getMessage(), e);
            }
        }
        return out;
    }
}
