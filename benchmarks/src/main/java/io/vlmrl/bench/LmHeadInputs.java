package io.vlmrl.bench;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Inputs of the fused-LM-head benchmark: final hidden states h [N, D] and an LM head W [V, D]
 * (fp32 or bf16, both leaves that require grad, with their gradients allocated once, as in
 * gradient accumulation over micro-batches), target ids [N] and the upstream gradients of logp
 * and of the entropy [N] (what the policy loss hands back).
 */
public final class LmHeadInputs implements AutoCloseable {

    public final int rows;
    public final int hidden;
    public final int vocab;
    public final String dtype;
    /** h, a leaf with requires_grad and a preallocated gradient. */
    public final Tensor h;
    /** W, a leaf with requires_grad and a preallocated gradient. */
    public final Tensor w;
    public final Tensor targets;
    public final Tensor gradLogp;
    public final Tensor gradEntropy;

    /**
     * @param shape "NxDxV", e.g. "4096x2048x151936"
     * @param dtype "fp32" or "bf16"
     */
    public LmHeadInputs(String shape, String dtype, long seed) {
        String[] parts = shape.split("x");
        if (parts.length != 3) {
            throw new IllegalArgumentException("shape: expected NxDxV such as 4096x2048x151936, got " + shape);
        }
        this.rows = Integer.parseInt(parts[0]);
        this.hidden = Integer.parseInt(parts[1]);
        this.vocab = Integer.parseInt(parts[2]);
        this.dtype = dtype;
        torch.ScalarType type = TokenLogProbsInputs.scalarType(dtype);
        torch.manual_seed(seed);
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        // Unit-variance hidden states (after the final RMSNorm) and a head whose logits have a
        // standard deviation of about 3, like TokenLogProbsInputs' logits.
        this.h = torch.randn(new long[] {rows, hidden}, f32).to(type).requires_grad_(true);
        this.w = torch.randn(new long[] {vocab, hidden}, f32).mul(new Scalar(3.0 / Math.sqrt(hidden)))
                .to(type).requires_grad_(true);
        h.mutable_grad().put(torch.zeros_like(h.detach()));
        w.mutable_grad().put(torch.zeros_like(w.detach()));
        this.targets = torch.randint(vocab, new long[] {rows}, new TensorOptions(torch.ScalarType.Long));
        this.gradLogp = torch.randn(new long[] {rows}, f32).mul(new Scalar(1e-3));
        this.gradEntropy = torch.randn(new long[] {rows}, f32).mul(new Scalar(1e-4));
    }

    /** Bytes of one element of h, W and the logits. */
    public int elementBytes() {
        return "bf16".equals(dtype) ? 2 : 4;
    }

    /** Size of the [N, V] logits in bytes: what the extra memory is compared with. */
    public long logitsBytes() {
        return (long) rows * vocab * elementBytes();
    }

    /** Floating-point operations of one N x D x V matrix product. */
    public double productFlops() {
        return 2.0 * rows * hidden * vocab;
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {h, w, targets, gradLogp, gradEntropy}) {
            t.close();
        }
    }
}
