package io.vlmrl.model;

/**
 * Where every position of the expanded prompt comes from, computed in Java from the prompt ids.
 *
 * <p>Each prompt row is left-padded ({@code 0 ... 0 1 ... 1} in the mask) and holds exactly one
 * image placeholder among its real tokens (or none when there are no images). The placeholder is
 * replaced by the {@code n} image tokens of its row, so every row grows by the same {@code n - 1}
 * positions and the batch stays left-padded and aligned on its last token.
 *
 * <p>Sources are indices into the stacked table {@code [text embeddings (B*P rows); image tokens (B*n rows)]}.
 *
 * @param batch    B
 * @param length   expanded prompt length P' = P + n - 1 (P without images)
 * @param sources  [B * P'] row of the stacked table for each expanded position
 * @param valid    [B * P'] false at left padding
 */
record PromptLayout(int batch, int length, long[] sources, boolean[] valid) {

    /**
     * @param ids         prompt ids [batch * promptLength], row-major
     * @param mask        [batch * promptLength], true for real tokens
     * @param imageTokens tokens per image, or 0 when the batch has no images
     */
    static PromptLayout of(long[] ids, boolean[] mask, int batch, int promptLength, int imageTokens,
                           int placeholderId, int vocabSize) {
        int expanded = imageTokens == 0 ? promptLength : promptLength + imageTokens - 1;
        long[] sources = new long[batch * expanded];
        boolean[] valid = new boolean[batch * expanded];
        for (int b = 0; b < batch; b++) {
            int row = b * promptLength;
            int placeholder = -1;
            int firstReal = -1;
            for (int j = 0; j < promptLength; j++) {
                boolean real = mask[row + j];
                if (real && firstReal < 0) {
                    firstReal = j;
                } else if (!real && firstReal >= 0) {
                    throw new IllegalArgumentException("promptMask row " + b + " must be left-padded (0...0 1...1), "
                            + "but position " + j + " is padding after real tokens");
                }
                long id = ids[row + j];
                if (real && (id < 0 || id >= vocabSize)) {
                    throw new IllegalArgumentException("promptIds[" + b + ", " + j + "] must be in [0, " + vocabSize
                            + "), got " + id);
                }
                if (real && id == placeholderId) {
                    if (placeholder >= 0) {
                        throw new IllegalArgumentException("prompt row " + b + " must contain exactly one image placeholder ("
                                + placeholderId + "), found another at position " + j + " after " + placeholder);
                    }
                    placeholder = j;
                }
            }
            if (firstReal < 0) {
                throw new IllegalArgumentException("prompt row " + b + " must have at least one real token, got only padding");
            }
            if (imageTokens > 0 && placeholder < 0) {
                throw new IllegalArgumentException("prompt row " + b + " must contain the image placeholder id "
                        + placeholderId + " (one per row), found none");
            }
            if (imageTokens == 0 && placeholder >= 0) {
                throw new IllegalArgumentException("prompt row " + b + " contains the image placeholder at position "
                        + placeholder + " but no pixels were given");
            }
            int out = b * expanded;
            for (int j = 0; j < expanded; j++) {
                int text; // source position in the unexpanded prompt, or -1 for an image token
                if (placeholder < 0 || j < placeholder) {
                    text = j;
                } else if (j < placeholder + imageTokens) {
                    text = -1;
                } else {
                    text = j - imageTokens + 1;
                }
                if (text < 0) {
                    sources[out + j] = (long) batch * promptLength + (long) b * imageTokens + (j - placeholder);
                    valid[out + j] = true;
                } else {
                    sources[out + j] = row + text;
                    valid[out + j] = mask[row + text];
                }
            }
        }
        return new PromptLayout(batch, expanded, sources, valid);
    }
}
