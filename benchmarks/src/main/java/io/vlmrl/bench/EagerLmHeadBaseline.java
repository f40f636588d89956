package io.vlmrl.bench;

import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The fused LM head's math as LibTorch eager ops with autograd, the way a Java user writes it:
 * logits = h · Wᵀ, log_softmax (in fp32), gather the targets, entropy = -sum(p * log p).
 * Temperature 1 (no division, which would cost the eager side one more [N, V] pass).
 */
public final class EagerLmHeadBaseline {

    private EagerLmHeadBaseline() {
    }

    /**
     * sum(logp * gradLogp) + sum(H * gradEntropy): backward() of this scalar puts the same
     * gradients in h.grad and W.grad as the fused op's backward given those upstream gradients.
     */
    public static Tensor surrogate(LmHeadInputs in) {
        Tensor logits = torch.matmul(in.h, in.w.t());
        Tensor logProbs = torch.log_softmax(logits, 1, new ScalarTypeOptional(torch.ScalarType.Float));
        Tensor logp = logProbs.gather(1, in.targets.unsqueeze(1)).squeeze(1);
        Tensor entropy = logProbs.exp().mul(logProbs).sum(1).neg();
        return logp.mul(in.gradLogp).sum().add(entropy.mul(in.gradEntropy).sum());
    }
}
