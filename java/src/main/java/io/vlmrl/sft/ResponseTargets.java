package io.vlmrl.sft;

import io.vlmrl.policy.Tokenizer;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Supervised targets for a batch: each response's tokens followed by the end token, right-padded.
 *
 * @param ids  [B, T] int64 response ids (pad id after the end token)
 * @param mask [B, T] float32, 1 on response tokens (the end token included), 0 on padding
 */
public record ResponseTargets(Tensor ids, Tensor mask) {

    public static ResponseTargets of(List<String> responses, Tokenizer tokenizer) {
        if (responses.isEmpty()) {
            throw new IllegalArgumentException("responses must not be empty");
        }
        int[][] rows = new int[responses.size()][];
        int longest = 0;
        for (int i = 0; i < rows.length; i++) {
            int[] words = tokenizer.encode(responses.get(i));
            rows[i] = java.util.Arrays.copyOf(words, words.length + 1);
            rows[i][words.length] = tokenizer.eosId();
            longest = Math.max(longest, rows[i].length);
        }
        long[] ids = new long[rows.length * longest];
        float[] mask = new float[rows.length * longest];
        java.util.Arrays.fill(ids, tokenizer.padId());
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < rows[i].length; j++) {
                ids[i * longest + j] = rows[i][j];
                mask[i * longest + j] = 1f;
            }
        }
        return new ResponseTargets(Tensor.create(ids, rows.length, longest), Tensor.create(mask, rows.length, longest));
    }
}
