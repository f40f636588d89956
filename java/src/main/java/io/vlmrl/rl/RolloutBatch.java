package io.vlmrl.rl;

import io.vlmrl.policy.EncodedPrompt;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;

/**
 * The kept groups of one step flattened into n = (groups x G) responses, right-padded to
 * T = the maximum response length, with the per-response values the update needs. Stored as
 * Java arrays, so nothing native outlives a step; {@link #slice} builds a micro-batch's tensors.
 * In a data-parallel run it holds this rank's kept groups, and {@link #exchange} adds what the
 * update needs of the other ranks' (their lengths and advantages).
 */
public final class RolloutBatch {

    private final List<ScoredGroup> groups;
    private final List<EncodedPrompt> prompts = new ArrayList<>();
    private final int n;
    private final int t;
    private final int[] groupOf;
    private final long[] tokens;
    private final float[] mask;
    private final int[] lengths;

    /** Per response: advantage A_i (after STCR), KL weight lambda_i (DADS), STCR weight w_i. */
    final float[] advantages;
    final float[] klWeights;
    final float[] stcrWeights;
    /** Per token [n * T]: log-probs the ratio is taken against, and the reference model's (KL on). */
    final float[] oldLogp;
    float[] refLogp;
    /** Every rank's responses of the step, as the update normalises over them (set by {@link #exchange}). */
    private GlobalRows global;

    public RolloutBatch(List<ScoredGroup> groups, int maxResponseLength, int padId) {
        this.groups = List.copyOf(groups);
        this.t = maxResponseLength;
        int count = 0;
        for (ScoredGroup g : groups) count += g.size();
        this.n = count;
        this.groupOf = new int[n];
        this.tokens = new long[n * t];
        this.mask = new float[n * t];
        this.lengths = new int[n];
        java.util.Arrays.fill(tokens, padId);
        int row = 0;
        for (int gi = 0; gi < groups.size(); gi++) {
            ScoredGroup g = groups.get(gi);
            prompts.add(g.prompt());
            for (int i = 0; i < g.size(); i++, row++) {
                int len = g.length(i);
                if (len > t) {
                    throw new IllegalArgumentException("response length " + len + " exceeds maxResponseLength " + t);
                }
                groupOf[row] = gi;
                lengths[row] = len;
                for (int k = 0; k < len; k++) {
                    tokens[row * t + k] = g.tokens()[i][k];
                    mask[row * t + k] = 1f;
                }
            }
        }
        this.advantages = new float[n];
        this.klWeights = new float[n];
        this.stcrWeights = new float[n];
        java.util.Arrays.fill(klWeights, 1f);
        java.util.Arrays.fill(stcrWeights, 1f);
        this.oldLogp = new float[n * t];
    }

    /**
     * Shares the lengths and advantages of this rank's responses with the other ranks, once the
     * advantages are set; in one process the batch is the step's whole batch.
     *
     * @param keptOwner the rank holding each kept group of the step, in the global order ({@link GroupCollector.Result#keptOwner})
     * @param groupSize G
     */
    public void exchange(int[] keptOwner, int groupSize, io.vlmrl.dist.Collectives world) {
        global = world.distributed() ? GlobalRows.exchange(this, keptOwner, groupSize, world) : GlobalRows.local(this);
    }

    /** Every rank's responses of the step (this batch alone unless {@link #exchange} said otherwise). */
    GlobalRows global() {
        if (global == null) global = GlobalRows.local(this);
        return global;
    }

    public List<ScoredGroup> groups() { return groups; }
    public int size() { return n; }
    public int maxLength() { return t; }
    public int length(int row) { return lengths[row]; }
    public int groupOf(int row) { return groupOf[row]; }

    /** Valid (mask = 1) tokens of the given responses. */
    public long validTokens(int[] rows) {
        long s = 0;
        for (int r : rows) s += lengths[r];
        return s;
    }

    /** Responses among {@code rows} with at least one token. */
    public int nonEmpty(int[] rows) {
        int s = 0;
        for (int r : rows) if (lengths[r] > 0) s++;
        return s;
    }

    /** The tensors of a micro-batch (rows of this batch), on the CPU. */
    public Slice slice(int[] rows) {
        int m = rows.length;
        long[] ids = new long[m * t];
        float[] msk = new float[m * t];
        float[] old = new float[m * t];
        float[] ref = refLogp == null ? null : new float[m * t];
        float[] adv = new float[m];
        float[] klw = new float[m];
        List<EncodedPrompt> rowPrompts = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            int r = rows[i];
            System.arraycopy(tokens, r * t, ids, i * t, t);
            System.arraycopy(mask, r * t, msk, i * t, t);
            System.arraycopy(oldLogp, r * t, old, i * t, t);
            if (ref != null) System.arraycopy(refLogp, r * t, ref, i * t, t);
            adv[i] = advantages[r];
            klw[i] = klWeights[r];
            rowPrompts.add(prompts.get(groupOf[r]));
        }
        return new Slice(rows, rowPrompts,
                torch.tensor(ids).view(m, t),
                torch.tensor(msk).view(m, t).gt(new org.bytedeco.pytorch.Scalar(0.5)),
                torch.tensor(old).view(m, t),
                ref == null ? null : torch.tensor(ref).view(m, t),
                torch.tensor(adv),
                torch.tensor(klw));
    }

    /** Stores per-token values [rows.length, T] computed for a micro-batch into {@code target}. */
    static void scatter(int[] rows, float[] values, float[] target, int t) {
        for (int i = 0; i < rows.length; i++) System.arraycopy(values, i * t, target, rows[i] * t, t);
    }

    /**
     * A micro-batch's inputs.
     *
     * @param prompts     one prompt per row (rows of one group share the same object)
     * @param responseIds [m, T] int64, right-padded
     * @param mask        [m, T] bool (true = response token; the loss takes it without a conversion pass)
     * @param oldLogp     [m, T] float32
     * @param refLogp     [m, T] float32, or null without a KL term
     * @param advantages  [m] float32
     * @param klWeights   [m] float32
     */
    public record Slice(int[] rows, List<EncodedPrompt> prompts, Tensor responseIds, Tensor mask, Tensor oldLogp,
                        Tensor refLogp, Tensor advantages, Tensor klWeights) {
    }
}
