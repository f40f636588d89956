package io.vlmrl.sft;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * Supervised targets for a batch: each response's token ids (the end token included, as
 * {@code Policy.encodeResponse} gives them), right-padded.
 *
 * @param ids  [B, T] int64 response ids (pad id after the end token)
 * @param mask [B, T] float32, 1 on response tokens (the end token included), 0 on padding
 */
public record ResponseTargets(Tensor ids, Tensor mask) {

    public static ResponseTargets of(List<int[]> responses, int padId) {
        if (responses.isEmpty()) {
            throw new IllegalArgumentException("responses: expected at least one, got none");
        }
        int longest = 0;
        for (int[] r : responses) longest = Math.max(longest, r.length);
        int n = responses.size();
        long[] ids = new long[n * longest];
        float[] mask = new float[n * longest];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < n; i++) {
            int[] row = responses.get(i);
            for (int j = 0; j < row.length; j++) {
                ids[i * longest + j] = row[j];
                mask[i * longest + j] = 1f;
            }
        }
        return new ResponseTargets(Tensor.create(ids, n, longest), Tensor.create(mask, n, longest));
    }
}
