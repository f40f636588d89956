package io.vlmrl.model;

import io.vlmrl.policy.Tokenizer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;

/** Tiny tokenizers, configs and batches shared by the model tests (fast on 2 CPU cores). */
final class ModelFixtures {
    private ModelFixtures() {
    }

    static WordTokenizer tokenizer() {
        List<String> words = new ArrayList<>(List.of("how", "many", "red", "green", "blue", "triangles", "circles",
                "squares", "are", "there", "yes", "no", "is", "the", "answer", "<answer>", "</answer>", "copy"));
        for (int i = 0; i <= 30; i++) {
            words.add(Integer.toString(i));
        }
        return WordTokenizer.fromWords(words);
    }

    /** 16x16 images, 4x4 patches, 2x2 merge: 4 image tokens; LM width 32. */
    static VlmConfig.Builder tinyBuilder(Tokenizer tokenizer) {
        return VlmConfig.builder().tokenizer(tokenizer)
                .imageSize(16).patchSize(4).mergeSize(2)
                .visionWidth(16).visionLayers(1).visionHeads(2).visionMlpHidden(32)
                .hiddenSize(32).numLayers(2).numHeads(4).numKvHeads(4).intermediateSize(64)
                .maxSeqLen(64);
    }

    static VlmConfig tinyConfig() {
        return tinyBuilder(tokenizer()).build();
    }

    /** Random pixels [b, 3, size, size] in [0, 1] from a fixed seed. */
    static Tensor pixels(int b, int size, long seed) {
        torch.manual_seed(seed);
        return torch.rand(b, 3, size, size);
    }

    /**
     * Left-padded prompt ids [rows.length, width]: each row is padded on the left with padId.
     * Returns {ids, mask} (mask float 1/0).
     */
    static Tensor[] leftPadded(long[][] rows, int width, int padId) {
        long[] ids = new long[rows.length * width];
        float[] mask = new float[rows.length * width];
        for (int b = 0; b < rows.length; b++) {
            int offset = width - rows[b].length;
            if (offset < 0) {
                throw new IllegalArgumentException("row " + b + " longer than width " + width);
            }
            for (int j = 0; j < width; j++) {
                ids[b * width + j] = j < offset ? padId : rows[b][j - offset];
                mask[b * width + j] = j < offset ? 0f : 1f;
            }
        }
        return new Tensor[] {torch.tensor(ids).view(rows.length, width), torch.tensor(mask).view(rows.length, width)};
    }

    /** Right-padded ids [rows.length, width]. */
    static Tensor rightPadded(long[][] rows, int width, int padId) {
        long[] ids = new long[rows.length * width];
        for (int b = 0; b < rows.length; b++) {
            for (int j = 0; j < width; j++) {
                ids[b * width + j] = j < rows[b].length ? rows[b][j] : padId;
            }
        }
        return torch.tensor(ids).view(rows.length, width);
    }

    static float[] floats(Tensor t) {
        Tensor c = t.detach().contiguous().to(torch.ScalarType.Float);
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    static long[] longs(Tensor t) {
        Tensor c = t.detach().contiguous().to(torch.ScalarType.Long);
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    static double maxAbsDiff(Tensor a, Tensor b) {
        return a.detach().sub(b.detach()).abs().max().item_double();
    }
}
