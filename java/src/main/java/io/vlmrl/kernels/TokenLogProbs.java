package io.vlmrl.kernels;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Fused token log-probabilities and entropy from logits (docs/algorithms.md, "Token log-probs and
 * entropy from logits"), on the native kernels: {@code logp[n] = z[n, y_n] - logsumexp(z[n, :])},
 * {@code H[n] = -sum_v p_v log p_v} with {@code z = logits / T}, in one streaming pass over the
 * vocabulary per row (no [N, V] temporary).
 *
 * <p>The logits are passed to the kernel by pointer, without a copy: [N, V] or [B, T, V],
 * float32 or bfloat16, on the CPU or a CUDA device, with a contiguous last dimension. The row
 * stride is respected, so a slice such as {@code logits[:, :-1, :]} of a [B, T+1, V] tensor
 * works as is (one kernel call per response when the rows are not evenly spaced).
 *
 * <h2>Backward, and writing the gradient in place</h2>
 * {@link #gradLogits} writes {@code dLoss/dlogits = (g_logp (onehot - p) - g_H p (log p + H)) / T}
 * in one pass. The [N, V] gradient is as large as the logits; with {@code inPlace = true} it is
 * written over the logits' own storage, saving that buffer, when that is safe for autograd:
 * <ul>
 *   <li>never when the logits are a leaf that requires grad (a user's or a parameter's values,
 *       whose {@code .grad} autograd fills): then a new buffer is allocated;</li>
 *   <li>otherwise (the usual case: logits produced by the LM head, whose backward needs its
 *       inputs and weights but not its output) the gradient overwrites the logits, and the
 *       logits' autograd version counter is bumped exactly as a LibTorch in-place op would.
 *       If any autograd node did save the logits (a consumer other than this op), the later
 *       backward through that node then fails with LibTorch's "modified by an inplace
 *       operation" error instead of silently using gradient values.</li>
 * </ul>
 * After an in-place backward the logits hold the gradient; this object refuses a second
 * backward. Without {@code inPlace} (or when it is unsafe) the gradient goes to a new buffer
 * with the logits' sizes and strides. If the logits are modified between forward and
 * backward (their version changed), backward fails instead of using a stale logsumexp.
 *
 * <p>Non-finite logits: a row with a NaN or +Inf logit (or with every logit -Inf) raises an
 * {@link IllegalArgumentException} naming the first bad element, e.g.
 * {@code "logits[1, 3, 42] is NaN"}; under {@link NonFinitePolicy#MASK} the row gets logp = 0,
 * entropy = 0 and a zero gradient, and is counted in {@link #nonFiniteRows()}.
 */
public final class TokenLogProbs implements LogProbs {
    private final Tensor logits;
    private final Tensor targets;     // int64, contiguous, flat [N]
    private final long[] rowShape;    // logits' sizes without the last dimension
    private final float temperature;
    private final int dtypeCode;
    private final NonFinitePolicy policy;
    private final Tensor logpFlat;
    private final Tensor entropyFlat; // null without entropy
    private final Tensor lseFlat;
    private final long nonFiniteRows;
    private final long logitsVersion;
    private boolean logitsOverwritten;

    private TokenLogProbs(Tensor logits, Tensor targets, long[] rowShape, float temperature, int dtypeCode,
                          NonFinitePolicy policy, Tensor logp, Tensor entropy, Tensor lse, long nonFiniteRows) {
        this.logits = logits;
        this.targets = targets;
        this.rowShape = rowShape;
        this.temperature = temperature;
        this.dtypeCode = dtypeCode;
        this.policy = policy;
        this.logpFlat = logp;
        this.entropyFlat = entropy;
        this.lseFlat = lse;
        this.nonFiniteRows = nonFiniteRows;
        this.logitsVersion = logits._version();
    }

    /** {@link #forward(Tensor, Tensor, double, boolean, NonFinitePolicy)} with {@link NonFinitePolicy#ERROR}. */
    public static TokenLogProbs forward(Tensor logits, Tensor targets, double temperature, boolean withEntropy) {
        return forward(logits, targets, temperature, withEntropy, NonFinitePolicy.ERROR);
    }

    /**
     * Runs the fused forward.
     *
     * @param logits [N, V] or [B, T, V], float32 or bfloat16, CPU or CUDA, last dimension contiguous
     * @param targets int64 token ids in [0, V), shaped like the logits without the last dimension
     * @param temperature T &gt; 0
     * @param withEntropy also compute the per-row entropy
     * @param policy what to do with a row containing NaN or +Inf
     * @throws IllegalArgumentException for a bad shape, dtype, device, stride, temperature,
     *         target id, or (under ERROR) a non-finite logit
     */
    public static TokenLogProbs forward(Tensor logits, Tensor targets, double temperature, boolean withEntropy,
                                        NonFinitePolicy policy) {
        long[] rowShape = validate(logits, targets, temperature);
        int dtypeCode = TensorChecks.dtype(logits) == ScalarType.BFloat16
                ? NativeKernels.VLMRL_DTYPE_BF16 : NativeKernels.VLMRL_DTYPE_F32;
        long n = targets.numel();
        Tensor flatTargets = targets.reshape(-1).contiguous();
        Tensor logp = floatVector(logits, n);
        Tensor entropy = withEntropy ? floatVector(logits, n) : null;
        Tensor lse = floatVector(logits, n);

        long bad = 0;
        long firstBad = -1;
        long rowOffset = 0;
        try (Pointer guard = logits.is_cuda() ? CudaStreams.deviceGuard(logits) : null;
             NativeKernels.TokenLogProbsConfig cfg = new NativeKernels.TokenLogProbsConfig();
             NativeKernels.TokenLogProbsResult result = new NativeKernels.TokenLogProbsResult()) {
            Pointer stream = logits.is_cuda() ? CudaStreams.current(logits) : null;
            for (Tensor block : rowBlocks(logits)) {
                long rows = block.size(0);
                configure(cfg, block, (float) temperature, dtypeCode, policy);
                Pointer y = flatTargets.narrow(0, rowOffset, rows).data_ptr();
                Pointer lp = logp.narrow(0, rowOffset, rows).data_ptr();
                Pointer h = entropy == null ? null : entropy.narrow(0, rowOffset, rows).data_ptr();
                Pointer s = lse.narrow(0, rowOffset, rows).data_ptr();
                int code = logits.is_cuda()
                        ? NativeKernels.vlmrl_token_logprobs_forward_cuda(cfg, block.data_ptr(), y, lp, h, s, result, stream)
                        : NativeKernels.vlmrl_token_logprobs_forward_cpu(cfg, block.data_ptr(), y, lp, h, s, result);
                NativeKernels.check(code, logits.is_cuda() ? "vlmrl_token_logprobs_forward_cuda"
                        : "vlmrl_token_logprobs_forward_cpu");
                if (result.nonfinite_count() > 0 && firstBad < 0) {
                    firstBad = rowOffset + result.first_nonfinite();
                }
                bad += result.nonfinite_count();
                rowOffset += rows;
            }
        }
        if (bad > 0 && policy == NonFinitePolicy.ERROR) {
            throw NonFiniteLogitsException.ofRow(logits.reshape(-1, logits.size(-1)).select(0, firstBad),
                    firstBad, rowShape, NonFiniteLogitsException.Formula.GIVEN);
        }
        return new TokenLogProbs(logits, flatTargets, rowShape, (float) temperature, dtypeCode, policy,
                logp, entropy, lse, bad);
    }

    @Override
    public Tensor logp() {
        return logpFlat.view(rowShape);
    }

    @Override
    public Tensor entropy() {
        return entropyFlat == null ? null : entropyFlat.view(rowShape);
    }

    @Override
    public Tensor lse() {
        return lseFlat.view(rowShape);
    }

    @Override
    public long nonFiniteRows() {
        return nonFiniteRows;
    }

    /** The non-finite policy this forward ran with. */
    public NonFinitePolicy nonFinitePolicy() {
        return policy;
    }

    @Override
    public Tensor gradLogits(Tensor gradLogp, Tensor gradEntropy, boolean inPlace) {
        if (logitsOverwritten) {
            throw new IllegalStateException("logits: already overwritten by an in-place backward; "
                    + "a second backward needs inPlace = false the first time");
        }
        if (logits._version() != logitsVersion) {
            throw new IllegalStateException("logits: modified since the forward (version " + logitsVersion
                    + " -> " + logits._version() + "); the saved logsumexp no longer matches them");
        }
        Tensor gLogp = upstream("gradLogp", gradLogp);
        Tensor gEntropy = upstream("gradEntropy", gradEntropy);
        if (gEntropy != null && entropyFlat == null) {
            throw new IllegalArgumentException("gradEntropy: expected null because the forward ran with "
                    + "withEntropy = false, got a tensor of shape " + TensorChecks.shape(gradEntropy));
        }
        boolean overwrite = inPlace && canOverwriteLogits();
        Tensor out = overwrite ? logits.detach()
                : torch.empty_strided(logits.sizes(), logits.strides(), logits.options());

        long rowOffset = 0;
        List<Tensor> logitBlocks = rowBlocks(logits);
        List<Tensor> outBlocks = rowBlocks(out);
        try (Pointer guard = logits.is_cuda() ? CudaStreams.deviceGuard(logits) : null;
             NativeKernels.TokenLogProbsConfig cfg = new NativeKernels.TokenLogProbsConfig()) {
            Pointer stream = logits.is_cuda() ? CudaStreams.current(logits) : null;
            for (int b = 0; b < logitBlocks.size(); b++) {
                Tensor block = logitBlocks.get(b);
                long rows = block.size(0);
                configure(cfg, block, temperature, dtypeCode, policy);
                Pointer y = targets.narrow(0, rowOffset, rows).data_ptr();
                Pointer s = lseFlat.narrow(0, rowOffset, rows).data_ptr();
                Pointer h = entropyFlat == null ? null : entropyFlat.narrow(0, rowOffset, rows).data_ptr();
                Pointer gl = gLogp == null ? null : gLogp.narrow(0, rowOffset, rows).data_ptr();
                Pointer gh = gEntropy == null ? null : gEntropy.narrow(0, rowOffset, rows).data_ptr();
                Pointer dst = outBlocks.get(b).data_ptr();
                int code = logits.is_cuda()
                        ? NativeKernels.vlmrl_token_logprobs_backward_cuda(cfg, block.data_ptr(), y, s, h, gl, gh, dst, stream)
                        : NativeKernels.vlmrl_token_logprobs_backward_cpu(cfg, block.data_ptr(), y, s, h, gl, gh, dst);
                NativeKernels.check(code, logits.is_cuda() ? "vlmrl_token_logprobs_backward_cuda"
                        : "vlmrl_token_logprobs_backward_cpu");
                rowOffset += rows;
            }
        }
        if (overwrite) {
            // The kernel wrote through a raw pointer; tell autograd, as an in-place op would.
            out.narrow(0, 0, 0).zero_();
            logitsOverwritten = true;
        }
        return out;
    }

    @Override
    public void backward(Tensor gradLogp, Tensor gradEntropy, boolean inPlace) {
        if (!logits.requires_grad()) {
            throw new IllegalStateException("logits: do not require grad, nothing to back-propagate into; "
                    + "use gradLogits(...) to get the gradient");
        }
        Tensor grad = gradLogits(gradLogp, gradEntropy, inPlace);
        logits.backward(grad, new BoolOptional(), false, new TensorArrayRefOptional());
    }

    /** True when the gradient may overwrite the logits (see the class comment). */
    private boolean canOverwriteLogits() {
        return !(logits.is_leaf() && logits.requires_grad());
    }

    private Tensor upstream(String name, Tensor grad) {
        if (grad == null) {
            return null;
        }
        TensorChecks.requireShape(name, grad, rowShape, "shape of targets");
        TensorChecks.requireSameDevice(name, grad, "logits", logits);
        return grad.detach().to(ScalarType.Float).reshape(-1).contiguous();
    }

    // ------------------------------------------------------------------ helpers

    private static long[] validate(Tensor logits, Tensor targets, double temperature) {
        TokenLogProbsArgs.requireLogitsRank(logits, targets);
        TensorChecks.requireDtype("logits", logits, ScalarType.Float, ScalarType.BFloat16);
        long vocab = logits.size(-1);
        if (vocab < 1) {
            throw new IllegalArgumentException("logits: expected a vocabulary size >= 1, got shape "
                    + TensorChecks.shape(logits));
        }
        if (logits.stride(-1) != 1 && vocab > 1) {
            throw new IllegalArgumentException("logits: expected a contiguous last dimension (stride 1), got strides "
                    + java.util.Arrays.toString(stridesOf(logits)));
        }
        long[] rowShape = TokenLogProbsArgs.requireTargetsMatch(logits, targets);
        TokenLogProbsArgs.requireTemperature(temperature);
        for (Tensor block : rowBlocks(logits)) {
            if (block.size(0) > 1 && block.stride(0) < vocab) {
                throw new IllegalArgumentException("logits: expected rows that do not overlap (row stride >= "
                        + vocab + "), got strides " + java.util.Arrays.toString(stridesOf(logits)));
            }
        }
        return rowShape;
    }

    private static long[] stridesOf(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int d = 0; d < s.length; d++) {
            s[d] = t.stride(d);
        }
        return s;
    }

    /**
     * Splits logits into 2-D [rows, V] views whose rows are evenly spaced (one kernel call each):
     * the whole tensor when it can be viewed as [N, V], else one view per response.
     */
    static List<Tensor> rowBlocks(Tensor logits) {
        List<Tensor> blocks = new ArrayList<>();
        if (logits.dim() == 2) {
            blocks.add(logits);
            return blocks;
        }
        long b = logits.size(0);
        long t = logits.size(1);
        long v = logits.size(2);
        if (t == 1) {
            blocks.add(logits.select(1, 0));
        } else if (b <= 1 || logits.stride(0) == t * logits.stride(1)) {
            blocks.add(logits.view(b * t, v));
        } else {
            for (long i = 0; i < b; i++) {
                blocks.add(logits.select(0, i));
            }
        }
        return blocks;
    }

    private static void configure(NativeKernels.TokenLogProbsConfig cfg, Tensor block, float temperature,
                                  int dtypeCode, NonFinitePolicy policy) {
        long rows = block.size(0);
        long vocab = block.size(1);
        cfg.n_rows(rows)
                .vocab(vocab)
                .row_stride(rows > 1 ? block.stride(0) : vocab)
                .temperature(temperature)
                .dtype(dtypeCode)
                .nonfinite_policy(policy.nativeCode());
    }

    private static Tensor floatVector(Tensor like, long n) {
        return torch.empty(new long[] {n}, like.options().dtype(new ScalarTypeOptional(ScalarType.Float)),
                new MemoryFormatOptional());
    }

}
