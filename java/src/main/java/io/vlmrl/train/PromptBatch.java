package io.vlmrl.train;

import io.vlmrl.data.ImageTensors;
import io.vlmrl.data.Problem;
import io.vlmrl.policy.Tokenizer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Model inputs for a list of problems, each repeated {@code copies} times in a row (a group's
 * G responses share one prompt): pixels [N, 3, H, W] and prompt ids [N, P], left-padded, laid
 * out as {@code <bos> <image> question-words}.
 */
public final class PromptBatch {

    private final Tensor pixels;
    private final Tensor promptIds;

    private PromptBatch(Tensor pixels, Tensor promptIds) {
        this.pixels = pixels;
        this.promptIds = promptIds;
    }

    /** Rows are problem 0 (copies times), problem 1 (copies times), ... */
    public static PromptBatch of(List<Problem> problems, int copies, Tokenizer tokenizer) {
        List<Integer> rows = new ArrayList<>();
        for (int p = 0; p < problems.size(); p++) {
            for (int c = 0; c < copies; c++) rows.add(p);
        }
        return ofRows(problems, rows.stream().mapToInt(Integer::intValue).toArray(), tokenizer);
    }

    /** Row r is problem {@code problemOfRow[r]}. */
    public static PromptBatch ofRows(List<Problem> problems, int[] problemOfRow, Tokenizer tokenizer) {
        if (problemOfRow.length == 0) throw new IllegalArgumentException("problemOfRow: expected at least one row, got 0");
        List<int[]> encoded = new ArrayList<>();
        for (Problem p : problems) encoded.add(promptTokens(p, tokenizer));
        int maxLen = 0;
        for (int r : problemOfRow) maxLen = Math.max(maxLen, encoded.get(r).length);
        long[] ids = new long[problemOfRow.length * maxLen];
        java.util.Arrays.fill(ids, tokenizer.padId());
        List<BufferedImage> images = new ArrayList<>();
        for (int row = 0; row < problemOfRow.length; row++) {
            int[] tokens = encoded.get(problemOfRow[row]);
            int offset = row * maxLen + (maxLen - tokens.length); // left padding
            for (int i = 0; i < tokens.length; i++) ids[offset + i] = tokens[i];
            images.add(problems.get(problemOfRow[row]).image());
        }
        Tensor pixels = ImageTensors.toTensor(images);
        Tensor promptIds = torch.tensor(ids).view(problemOfRow.length, maxLen);
        return new PromptBatch(pixels, promptIds);
    }

    /** {@code <bos> <image>} followed by the question's tokens. */
    public static int[] promptTokens(Problem problem, Tokenizer tokenizer) {
        int[] question = tokenizer.encode(problem.question());
        int[] tokens = new int[question.length + 2];
        tokens[0] = tokenizer.bosId();
        tokens[1] = tokenizer.imagePlaceholderId();
        System.arraycopy(question, 0, tokens, 2, question.length);
        return tokens;
    }

    /** [N, 3, H, W] float32 in [0, 1]. */
    public Tensor pixels() {
        return pixels;
    }

    /** [N, P] int64, left-padded with the pad id. */
    public Tensor promptIds() {
        return promptIds;
    }
}
