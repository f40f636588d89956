package io.vlmrl.bench;

import io.vlmrl.kernels.NativeKernels;
import io.vlmrl.kernels.NativeKernels.TokenLogProbsConfig;
import io.vlmrl.kernels.NativeKernels.TokenLogProbsResult;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Forward then backward of the fused CPU token log-prob + entropy kernels through the
 * JavaCPP binding: the forward streams each row once (online max and sum) and saves only
 * lse [N]; the backward streams it again and writes the logits gradient into a buffer it is
 * given. Tensors it creates belong to the caller's PointerScope.
 */
public final class FusedTokenLogProbsKernel implements AutoCloseable {

    private final TokenLogProbsInputs in;
    private final TokenLogProbsConfig config = new TokenLogProbsConfig();
    private final TokenLogProbsResult result = new TokenLogProbsResult();

    public FusedTokenLogProbsKernel(TokenLogProbsInputs in) {
        this.in = in;
        config.n_rows(in.rows).vocab(in.vocab).row_stride(in.vocab).temperature(1.0f)
                .dtype("bf16".equals(in.dtype) ? NativeKernels.VLMRL_DTYPE_BF16 : NativeKernels.VLMRL_DTYPE_F32)
                .nonfinite_policy(NativeKernels.VLMRL_NONFINITE_ERROR);
    }

    /** Forward, then backward into {@code gradLogits} ([N, V], the logits' dtype); returns sum(logp). */
    public double forwardBackward(Tensor gradLogits) {
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        Tensor logp = torch.empty(new long[] {in.rows}, f32, new MemoryFormatOptional());
        Tensor entropy = torch.empty(new long[] {in.rows}, f32, new MemoryFormatOptional());
        Tensor lse = torch.empty(new long[] {in.rows}, f32, new MemoryFormatOptional());
        NativeKernels.check(NativeKernels.vlmrl_token_logprobs_forward_cpu(config, in.logits.data_ptr(),
                in.targets.data_ptr(), logp.data_ptr(), entropy.data_ptr(), lse.data_ptr(), result),
                "vlmrl_token_logprobs_forward_cpu");
        if (result.nonfinite_count() != 0) {
            throw new IllegalStateException("benchmark logits have " + result.nonfinite_count() + " non-finite rows");
        }
        NativeKernels.check(NativeKernels.vlmrl_token_logprobs_backward_cpu(config, in.logits.data_ptr(),
                in.targets.data_ptr(), lse.data_ptr(), entropy.data_ptr(), in.gradLogp.data_ptr(),
                in.gradEntropy.data_ptr(), gradLogits.data_ptr()),
                "vlmrl_token_logprobs_backward_cpu");
        return logp.data_ptr_float().get(0);
    }

    @Override
    public void close() {
        config.close();
        result.close();
    }
}
