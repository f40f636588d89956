package io.vlmrl.bench;

import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Token log-probs and entropy as LibTorch eager ops with autograd, the way a Java user
 * writes them: log_softmax (in fp32, also for bf16 logits, as is usual for numerical
 * safety), gather the targets, entropy = -sum(p * log p). Temperature is 1, so no division
 * (which would cost the eager side one more [N, V] pass).
 */
public final class EagerTokenLogProbsBaseline {

    private EagerTokenLogProbsBaseline() {
    }

    /**
     * sum(logp * gradLogp) + sum(H * gradEntropy): backward() of this scalar puts the same
     * logits gradient in logits.grad() as the fused backward given those upstream gradients.
     */
    public static Tensor surrogate(Tensor logits, TokenLogProbsInputs in) {
        Tensor logProbs = torch.log_softmax(logits, 1, new ScalarTypeOptional(torch.ScalarType.Float));
        Tensor logp = logProbs.gather(1, in.targets.unsqueeze(1)).squeeze(1);
        Tensor entropy = logProbs.exp().mul(logProbs).sum(1).neg();
        return logp.mul(in.gradLogp).sum().add(entropy.mul(in.gradEntropy).sum());
    }
}
