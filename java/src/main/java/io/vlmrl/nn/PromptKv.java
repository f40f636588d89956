package io.vlmrl.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Training-time keys and values of a batch of distinct prompts, kept in the autograd graph, so
 * that the responses of a group attend to one forward pass of their prompt: the prompt pass
 * {@link #write}s every layer's keys and values here, then {@link #forRows} gives the cache the
 * responses run with, each row reading its prompt's keys and values (an {@code index_select}, so
 * the gradients of a prompt's rows add up in the prompt pass, as they would over repeated rows).
 */
public final class PromptKv implements AttentionKv {
    private final Tensor[] keys, values;
    private final Tensor rowPrompt; // null while recording the prompt pass

    public PromptKv(int layers) {
        this(new Tensor[layers], new Tensor[layers], null);
    }

    private PromptKv(Tensor[] keys, Tensor[] values, Tensor rowPrompt) {
        this.keys = keys;
        this.values = values;
        this.rowPrompt = rowPrompt;
    }

    /**
     * The cache of responses whose row i continues prompt {@code rowPrompt[i]}: their keys and
     * values come after the prompt's [P'] positions.
     *
     * @param rowPrompt [B] int64 indices into the recorded prompts
     */
    public PromptKv forRows(Tensor rowPrompt) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] == null) throw new IllegalStateException("layer " + i + " of the prompt pass was not recorded");
        }
        return new PromptKv(keys, values, rowPrompt);
    }

    /**
     * The attention mask [B, 1, L, P + L] (true = may attend) of L response tokens per row that
     * follow their prompt's P positions: each sees its prompt's real tokens and the response up
     * to itself.
     *
     * @param promptValid [U, P] bool, the real (not padding) positions of the recorded prompts
     * @param rowPrompt   [B] int64, each row's prompt
     */
    public static Tensor responseMask(Tensor promptValid, Tensor rowPrompt, long l) {
        long b = rowPrompt.size(0), p = promptValid.size(1);
        Tensor causal = torch.ones(l, l).to(promptValid.device(), torch.ScalarType.Bool).tril();
        return torch.cat(new TensorVector(promptValid.index_select(0, rowPrompt).unsqueeze(1).expand(b, l, p),
                causal.unsqueeze(0).expand(b, l, l)), 2).unsqueeze(1);
    }

    @Override
    public Tensor[] write(int layer, Tensor k, Tensor v) {
        if (rowPrompt == null) {
            keys[layer] = k;
            values[layer] = v;
            return new Tensor[] {k, v};
        }
        Tensor promptK = keys[layer].index_select(0, rowPrompt);
        Tensor promptV = values[layer].index_select(0, rowPrompt);
        return new Tensor[] {torch.cat(new TensorVector(promptK, k), 2), torch.cat(new TensorVector(promptV, v), 2)};
    }

    @Override
    public void advance(long l) {
        // Positions are the caller's: nothing to count.
    }
}
