package io.vlmrl.bench;

import io.vlmrl.loss.AdvantageStats;
import io.vlmrl.loss.Denominators;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Random but realistic policy-loss inputs for N tokens laid out as [B, T] responses:
 * ratios near 1 with a spread that makes a fraction of tokens hit each clip bound,
 * per-token advantages, responses of random length padded to T (mask 0 after the end),
 * a reference policy near the old one and DADS weights in (0.2, 1].
 */
public final class PolicyLossInputs implements AutoCloseable {

    /** Tokens per response row (a typical response budget). */
    public static final int ROW_LEN = 1024;

    public final int rows;
    public final int rowLen;
    public final Tensor logp;
    public final Tensor old;
    public final Tensor adv;
    public final Tensor ref;
    public final Tensor klWeight;
    /** [B, T] bool. */
    public final Tensor mask;
    /** Number of valid tokens: the token-mean denominator. */
    public final double validTokens;
    public final Denominators denominators;
    /** Advantage statistics over the valid tokens (AAAC's min-max normalization). */
    public final AdvantageStats advantageStats;
    public final float advMin;
    public final float advMax;

    public PolicyLossInputs(int tokens, long seed) {
        if (tokens < ROW_LEN || tokens % ROW_LEN != 0) {
            throw new IllegalArgumentException("tokens must be a positive multiple of " + ROW_LEN + ", got " + tokens);
        }
        torch.manual_seed(seed);
        this.rowLen = ROW_LEN;
        this.rows = tokens / ROW_LEN;
        long[] shape = {rows, rowLen};
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        this.old = torch.randn(shape, f32).mul(new Scalar(0.5)).sub(new Scalar(1.0));
        this.logp = old.add(torch.randn(shape, f32).mul(new Scalar(0.15))).contiguous();
        this.ref = old.add(torch.randn(shape, f32).mul(new Scalar(0.1))).contiguous();
        this.adv = torch.randn(shape, f32);
        // Response i is valid for its first len_i tokens, len_i uniform in [T/4, T].
        Tensor lengths = torch.randint(rowLen / 4, rowLen + 1, new long[] {rows, 1});
        Tensor positions = torch.arange(new Scalar(rowLen)).unsqueeze(0);
        this.mask = positions.lt(lengths).contiguous();
        this.klWeight = torch.rand(new long[] {rows}, f32).mul(new Scalar(0.8)).add(new Scalar(0.2));
        this.denominators = Denominators.of(mask);
        this.validTokens = denominators.tokens();
        this.advantageStats = AdvantageStats.of(adv, mask);
        this.advMin = (float) advantageStats.min();
        this.advMax = (float) advantageStats.max();
    }

    /** The library's view of these inputs: logp without grad, so the result carries d loss / d logp. */
    public io.vlmrl.loss.PolicyLossInputs forLibrary(PolicyLossCase lossCase) {
        io.vlmrl.loss.PolicyLossInputs.Builder builder = io.vlmrl.loss.PolicyLossInputs.builder(logp, old, adv, mask)
                .denominators(denominators)
                .advantageStats(advantageStats);
        if (lossCase.k3WithDads()) {
            builder.ref(ref).klWeights(klWeight);
        }
        return builder.build();
    }

    /** Total tokens N = B * T (valid or not). */
    public long tokens() {
        return (long) rows * rowLen;
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {logp, old, adv, mask, ref, klWeight}) {
            t.close();
        }
    }
}
