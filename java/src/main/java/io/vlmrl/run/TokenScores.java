package io.vlmrl.run;

import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.Policy;
import io.vlmrl.sft.ResponseTargets;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;
import java.util.List;

/**
 * Per-token log-probs and entropies of given responses under a policy (teacher forcing, temperature
 * 1, float32): {@code logprobs[i][t] = log p(response_i[t] | prompt_i, response_i[<t])} and
 * {@code entropy[i][t]} the entropy of that next-token distribution. Java memory only: the tensors
 * of a call are freed before it returns.
 *
 * @param logprobs one row per response, as long as the response
 * @param entropy  one row per response, as long as the response
 */
public record TokenScores(float[][] logprobs, float[][] entropy) {

    /** Scores {@code responses[i]} after {@code prompts[i]} in one batch, without gradients. */
    public static TokenScores of(Policy policy, List<EncodedPrompt> prompts, List<int[]> responses) {
        if (prompts.size() != responses.size()) {
            throw new IllegalArgumentException("prompts and responses: expected one response per prompt, got " + prompts.size()
                    + " prompts and " + responses.size() + " responses");
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            ResponseTargets targets = ResponseTargets.of(responses, policy.tokenizer().padId());
            Tensor logits = policy.responseLogits(prompts, targets.ids()).to(torch.ScalarType.Float);
            Tensor logSoftmax = torch.log_softmax(logits, -1);
            Tensor logp = logSoftmax.gather(-1, targets.ids().unsqueeze(-1)).squeeze(-1);
            // p log p with log p floored, so that p = 0 gives 0 rather than 0 * -inf
            Tensor entropy = logSoftmax.exp().mul(logSoftmax.clamp_min(new Scalar(-1e30)))
                    .sum(new long[] {-1}, false, new ScalarTypeOptional()).neg();
            float[] lp = floats(logp), h = floats(entropy);
            int t = (int) targets.ids().size(1);
            float[][] outLogp = new float[responses.size()][], outEntropy = new float[responses.size()][];
            for (int i = 0; i < responses.size(); i++) {
                int n = responses.get(i).length;
                outLogp[i] = Arrays.copyOfRange(lp, i * t, i * t + n);
                outEntropy[i] = Arrays.copyOfRange(h, i * t, i * t + n);
            }
            return new TokenScores(outLogp, outEntropy);
        }
    }

    private static float[] floats(Tensor t) {
        Tensor c = t.contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        c.data_ptr_float().get(out);
        return out;
    }
}
