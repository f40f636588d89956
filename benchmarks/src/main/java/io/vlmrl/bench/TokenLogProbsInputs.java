package io.vlmrl.bench;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Logits [N, V] (fp32 or bf16), target ids [N] and the upstream gradients of logp and of the
 * entropy [N] (what the policy loss hands back), for the token log-prob benchmark.
 */
public final class TokenLogProbsInputs implements AutoCloseable {

    public final int rows;
    public final int vocab;
    public final String dtype;
    public final Tensor logits;
    public final Tensor targets;
    public final Tensor gradLogp;
    public final Tensor gradEntropy;

    /**
     * @param shape "NxV", e.g. "2048x32768"
     * @param dtype "fp32" or "bf16"
     */
    public TokenLogProbsInputs(String shape, String dtype, long seed) {
        String[] parts = shape.split("x");
        if (parts.length != 2) {
            throw new IllegalArgumentException("shape: expected NxV such as 2048x32768, got " + shape);
        }
        this.rows = Integer.parseInt(parts[0]);
        this.vocab = Integer.parseInt(parts[1]);
        this.dtype = dtype;
        torch.ScalarType type = scalarType(dtype);
        torch.manual_seed(seed);
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        // Logit spread like a trained LM head's: a few strong candidates over a flat tail.
        Tensor raw = torch.randn(new long[] {rows, vocab}, f32).mul(new Scalar(3.0));
        this.logits = type == torch.ScalarType.Float ? raw : raw.to(type).contiguous();
        if (type != torch.ScalarType.Float) {
            raw.close();
        }
        this.targets = torch.randint(vocab, new long[] {rows}, new TensorOptions(torch.ScalarType.Long));
        this.gradLogp = torch.randn(new long[] {rows}, f32).mul(new Scalar(1e-3));
        this.gradEntropy = torch.randn(new long[] {rows}, f32).mul(new Scalar(1e-4));
    }

    public static torch.ScalarType scalarType(String dtype) {
        switch (dtype) {
            case "fp32":
                return torch.ScalarType.Float;
            case "bf16":
                return torch.ScalarType.BFloat16;
            default:
                throw new IllegalArgumentException("dtype: expected fp32 or bf16, got " + dtype);
        }
    }

    /** Bytes of one logit element. */
    public int elementBytes() {
        return "bf16".equals(dtype) ? 2 : 4;
    }

    /** Size of the logits in bytes: what the extra memory is compared with. */
    public long logitsBytes() {
        return (long) rows * vocab * elementBytes();
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {logits, targets, gradLogp, gradEntropy}) {
            t.close();
        }
    }
}
