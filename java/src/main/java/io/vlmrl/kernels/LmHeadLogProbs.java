package io.vlmrl.kernels;

import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Fused LM head + token log-probs + entropy ("lm head log-probs"): from the final hidden states
 * {@code h [N, D]} (or {@code [B, T, D]}) and the LM head {@code W [V, D]} (tied to the token
 * embedding or not), computes {@code logp[n] = log softmax(h_n · Wᵀ / T)[y_n]} and the entropy of
 * that distribution <em>without ever holding the [N, V] logits</em>: the tokens are processed in
 * chunks of {@code chunkTokens} rows, and only one chunk's logits exist at a time.
 *
 * <h2>Why</h2>
 * At a real vocabulary (Qwen: V = 151,936) the logits are the trainer's largest buffer:
 * 8,192 tokens make 5 GB of float32 logits, plus their gradient, plus the LM head's weight
 * gradient that autograd computes from them. Here the peak is one chunk (by default about
 * {@value #DEFAULT_CHUNK_MIB} MiB of logits, {@link #defaultChunkTokens}) plus dL/dh [N, D].
 *
 * <h2>How (per chunk, CPU and CUDA alike)</h2>
 * <ol>
 *   <li>forward: {@code z = h_c · Wᵀ} into one reused chunk buffer ({@code torch.mm_out}: OpenBLAS
 *       on the CPU, cuBLAS on a CUDA device), then the existing fused kernel
 *       ({@code vlmrl_token_logprobs_forward_cpu} / {@code _cuda}, see {@link TokenLogProbs}) on the
 *       buffer: logp, entropy and the per-token logsumexp {@code lse}, which is all the backward
 *       keeps (4 bytes per token, not the logits);</li>
 *   <li>backward: the chunk's logits are recomputed into the same buffer, the existing backward
 *       kernel writes dL/dz over them in place from the saved lse (it reads a block of a row
 *       before it writes it), then {@code dh_c = g · W} ({@code mm_out} into dL/dh) and
 *       {@code dW += gᵀ · h_c} ({@code addmm_}).</li>
 * </ol>
 * The existing kernel suffices per chunk because a chunk of rows is an ordinary [rows, V] logits
 * matrix: the softmax statistics of a row never need another row, so no new native code is
 * needed; the kernels see raw pointers and sizes as always, and the matrix products stay in
 * LibTorch, which owns the BLAS and the CUDA stream (the kernels run on LibTorch's current
 * stream, so they are ordered with the products).
 *
 * <p>Compared with the unfused path (logits materialised, fused kernel, autograd's matmul
 * backward) the two-call form ({@link #forward} then {@link #backward}) does one more matrix
 * product (the recomputation): 4 instead of 3. When the upstream gradient of each token is known
 * as soon as its log-prob is (the policy loss is token-separable given its mini-batch
 * denominators), {@link #forwardBackward} gets it from a callback per chunk and runs the
 * backward of the chunk while its logits are still in the buffer: 3 products, as the unfused
 * path, and the same memory as the two-call form.
 *
 * <h2>Autograd</h2>
 * The outputs are detached float32. {@link #backward} computes dL/dh and dL/dW and joins
 * autograd like the other ops: {@code dL/dW} is added straight into {@code W.grad} when W is a
 * leaf that requires grad (allocating it, zero, when it is undefined, as autograd would; no [V, D]
 * temporary), then {@code h.backward(dL/dh)} runs the rest of the graph. When W is tied to the
 * token embedding, the embedding's gradient arrives through h's graph and adds to the same
 * {@code W.grad}, so both contributions sum. A W that does not require grad (frozen) gets no
 * gradient and costs no product; a W that requires grad but is not a leaf (e.g. a cast of a
 * parameter) gets its gradient through the same {@code torch.backward} call as h.
 *
 * <h2>Dtypes and numerics</h2>
 * h and W must have the same dtype, float32 or bfloat16 (the kernel's dtypes). The chunk's
 * logits have that dtype, exactly what {@code h.matmul(W.t())} gives the unfused path. With
 * bfloat16, dL/dW is accumulated in bfloat16 over the chunks (rounded once per chunk, where
 * the unfused product rounds once): expect relative differences of a few 2^-8 against a float32
 * reference (the tests allow 3e-2 of the largest gradient).
 *
 * <h2>Native memory</h2>
 * All tensors are LibTorch tensors, freed by the enclosing {@code PointerScope} (or the GC): the
 * chunk buffer and dL/dh live only during a call; the outputs and the saved lse (and, when h is
 * not contiguous, a contiguous copy of h) live as long as this object.
 *
 * <h2>Non-finite values</h2>
 * A row whose logits have a NaN or +Inf (or are all -Inf) raises an
 * {@link IllegalArgumentException} naming the row and the vocabulary column, e.g.
 * {@code "logits[1, 3, 42] = hidden[1, 3, :] · lmHeadWeight[42, :] is NaN"}; under
 * {@link NonFinitePolicy#MASK} the row gets logp = 0, entropy = 0 and zero gradients (its h and
 * W values are kept out of the products, so a NaN in them cannot reach other rows' gradients).
 * In {@link #forwardBackward} under ERROR the error is raised at the first chunk with a bad
 * row, after the earlier chunks' dL/dW has been added to {@code W.grad}.
 */
public final class LmHeadLogProbs {

    /** Default size of one chunk's logits, in MiB: {@link #defaultChunkTokens}. */
    public static final long DEFAULT_CHUNK_MIB = 128;

    /**
     * The upstream gradients of one chunk's rows, for {@link #forwardBackward}.
     *
     * @param gradLogp    dL/dlogp of the chunk's rows, [rows] (any shape with that many elements), or null for 0
     * @param gradEntropy dL/dentropy of the chunk's rows, or null for 0
     */
    public record Upstream(Tensor gradLogp, Tensor gradEntropy) {
    }

    /**
     * Supplies the upstream gradients of a chunk once its log-probs are known. Tensors it creates
     * belong to the op's sweep and are freed when the call returns (keep Java values, or copies
     * made outside, for later).
     */
    @FunctionalInterface
    public interface ChunkGradients {
        /**
         * @param start   the chunk's first row (flat token index in [0, N))
         * @param logp    the chunk's log-probs, float32 [rows], detached
         * @param entropy the chunk's entropies, float32 [rows], or null without entropy
         * @return the upstream gradients of these rows
         */
        Upstream of(long start, Tensor logp, Tensor entropy);
    }

    /** dL/dh (shaped like h) and dL/dW [V, D], from {@link #gradients}. */
    public record Gradients(Tensor hidden, Tensor weight) {
    }

    private final Tensor hidden;       // as given (the autograd root)
    private final Tensor hiddenFlat;   // detached [N, D], contiguous
    private final Tensor weight;       // as given
    private final Tensor weightData;   // detached [V, D]
    private final Tensor targets;      // int64 [N], contiguous
    private final long[] rowShape;
    private final float temperature;
    private final int dtypeCode;
    private final NonFinitePolicy policy;
    private final long chunkTokens;
    private final Tensor logpFlat;
    private final Tensor entropyFlat;  // null without entropy
    private final Tensor lseFlat;
    private final long hiddenVersion;
    private final long weightVersion;
    private long nonFiniteRows;
    private boolean backpropagated;

    private LmHeadLogProbs(Tensor hidden, Tensor weight, Tensor targets, double temperature, boolean withEntropy,
                           long chunkTokens, NonFinitePolicy policy) {
        this.rowShape = validate(hidden, weight, targets, temperature, chunkTokens);
        this.hidden = hidden;
        this.weight = weight;
        long d = hidden.size(-1);
        this.hiddenFlat = hidden.detach().reshape(-1, d).contiguous();
        this.weightData = weight.detach();
        this.targets = targets.reshape(-1).contiguous();
        this.temperature = (float) temperature;
        this.dtypeCode = TensorChecks.dtype(hidden) == ScalarType.BFloat16
                ? NativeKernels.VLMRL_DTYPE_BF16 : NativeKernels.VLMRL_DTYPE_F32;
        this.policy = policy;
        this.chunkTokens = chunkTokens > 0 ? chunkTokens
                : defaultChunkTokens(weight.size(0), TensorChecks.dtype(hidden));
        long n = this.targets.numel();
        this.logpFlat = floatVector(hidden, n);
        this.entropyFlat = withEntropy ? floatVector(hidden, n) : null;
        this.lseFlat = floatVector(hidden, n);
        this.hiddenVersion = hidden._version();
        this.weightVersion = weight._version();
    }

    /** {@link #forward(Tensor, Tensor, Tensor, double, boolean, long, NonFinitePolicy)} with the default chunk and ERROR. */
    public static LmHeadLogProbs forward(Tensor hidden, Tensor weight, Tensor targets, double temperature,
                                         boolean withEntropy) {
        return forward(hidden, weight, targets, temperature, withEntropy, 0, NonFinitePolicy.ERROR);
    }

    /**
     * Runs the chunked forward; {@link #backward} (or {@link #gradients}) recomputes the chunks.
     *
     * @param hidden      h, [N, D] or [B, T, D], float32 or bfloat16, CPU or CUDA (any strides)
     * @param weight      W, [V, D], same dtype and device as h (the LM head, possibly the tied embedding)
     * @param targets     int64 token ids in [0, V), shaped like h without its last dimension
     * @param temperature T &gt; 0: the distribution is softmax(h · Wᵀ / T), as the sampler's
     * @param withEntropy also compute each token's entropy
     * @param chunkTokens rows per chunk; 0 for {@link #defaultChunkTokens}
     * @param policy      what to do with a row of non-finite logits
     * @throws IllegalArgumentException for a bad shape, dtype, device, temperature, chunk size or
     *         target id, or (under ERROR) a non-finite logit
     */
    public static LmHeadLogProbs forward(Tensor hidden, Tensor weight, Tensor targets, double temperature,
                                         boolean withEntropy, long chunkTokens, NonFinitePolicy policy) {
        LmHeadLogProbs op = new LmHeadLogProbs(hidden, weight, targets, temperature, withEntropy, chunkTokens, policy);
        op.run(true, null, null, null, null, null);
        return op;
    }

    /**
     * Forward and backward in one sweep over the chunks: each chunk's log-probs go to
     * {@code upstream}, whose gradients are back-propagated while the chunk's logits are still in
     * the buffer (no recomputation), then the result joins autograd as {@link #backward} does.
     * Use it when the gradient of a token depends only on that token's log-prob and entropy (and
     * on constants), as the policy loss's does given its mini-batch denominators.
     *
     * @param upstream called once per chunk, in row order
     * @throws IllegalStateException when neither h nor W requires grad
     */
    public static LmHeadLogProbs forwardBackward(Tensor hidden, Tensor weight, Tensor targets, double temperature,
                                                 boolean withEntropy, long chunkTokens, NonFinitePolicy policy,
                                                 ChunkGradients upstream) {
        if (upstream == null) {
            throw new IllegalArgumentException("upstream: expected a function giving each chunk's gradients, got null");
        }
        LmHeadLogProbs op = new LmHeadLogProbs(hidden, weight, targets, temperature, withEntropy, chunkTokens, policy);
        op.requireSomethingToTrain();
        Sinks sinks = op.autogradSinks();
        op.run(true, upstream, null, null, sinks.gradHidden, sinks.gradWeight);
        op.joinAutograd(sinks);
        return op;
    }

    /**
     * Rows per chunk so that one chunk's logits take about {@value #DEFAULT_CHUNK_MIB} MiB:
     * 220 tokens at V = 151,936 in float32, 441 in bfloat16 (at least 1).
     */
    public static long defaultChunkTokens(long vocab, ScalarType dtype) {
        long element = dtype.intern() == ScalarType.BFloat16 ? 2 : 4;
        return Math.max(1, (DEFAULT_CHUNK_MIB << 20) / (Math.max(1, vocab) * element));
    }

    /** log p(target), shaped like the targets, float32, detached. */
    public Tensor logp() {
        return logpFlat.view(rowShape);
    }

    /** Entropy per token, shaped like the targets, float32, detached; null without entropy. */
    public Tensor entropy() {
        return entropyFlat == null ? null : entropyFlat.view(rowShape);
    }

    /** The saved logsumexp of h · Wᵀ / T per token (NaN for rows masked as non-finite). */
    public Tensor lse() {
        return lseFlat.view(rowShape);
    }

    /** Rows whose logits had a NaN or +Inf (masked under {@link NonFinitePolicy#MASK}). */
    public long nonFiniteRows() {
        return nonFiniteRows;
    }

    /** The rows per chunk this op ran with. */
    public long chunkTokens() {
        return chunkTokens;
    }

    /**
     * dL/dh and dL/dW for the given upstream gradients, returned without touching autograd
     * (dL/dW is a new [V, D] tensor). Recomputes each chunk's logits.
     *
     * @param gradLogp    dL/dlogp shaped like the targets, or null for 0
     * @param gradEntropy dL/dentropy shaped like the targets, or null for 0 (needs withEntropy)
     */
    public Gradients gradients(Tensor gradLogp, Tensor gradEntropy) {
        requireUnchanged();
        Tensor gl = upstream("gradLogp", gradLogp);
        Tensor ge = upstreamEntropy(gradEntropy);
        Tensor gradHidden = torch.empty_like(hiddenFlat);
        Tensor gradWeight = torch.zeros_like(weightData);
        run(false, null, gl, ge, gradHidden, gradWeight);
        return new Gradients(gradHidden.view(TensorChecks.sizes(hidden)), gradWeight);
    }

    /**
     * Back-propagates: recomputes each chunk, adds dL/dW into W's gradient and runs
     * {@code h.backward(dL/dh)} (see the class comment). Allowed once.
     *
     * @throws IllegalStateException when neither h nor W requires grad, after a previous backward,
     *         or when h or W changed since the forward
     */
    public void backward(Tensor gradLogp, Tensor gradEntropy) {
        if (backpropagated) {
            throw new IllegalStateException("backward: already back-propagated (once per forward)");
        }
        requireUnchanged();
        requireSomethingToTrain();
        Tensor gl = upstream("gradLogp", gradLogp);
        Tensor ge = upstreamEntropy(gradEntropy);
        Sinks sinks = autogradSinks();
        run(false, null, gl, ge, sinks.gradHidden, sinks.gradWeight);
        joinAutograd(sinks);
    }

    // ------------------------------------------------------------------ the chunk loop

    /**
     * One sweep over the chunks. With {@code forward} the kernel's forward fills logp / entropy /
     * lse; with a gradient sink ({@code gradHidden} or {@code gradWeight} non-null) the chunk's
     * backward follows, from {@code upstream} (one-pass) or from {@code gLogp} / {@code gEntropy}.
     */
    private void run(boolean forward, ChunkGradients upstream, Tensor gLogp, Tensor gEntropy,
                     Tensor gradHidden, Tensor gradWeight) {
        long n = targets.numel();
        if (n == 0) {
            return;
        }
        long vocab = weightData.size(0);
        long rowsPerChunk = Math.min(chunkTokens, n);
        boolean backward = gradHidden != null || gradWeight != null;
        boolean cuda = hiddenFlat.is_cuda();
        String fwdName = cuda ? "vlmrl_token_logprobs_forward_cuda" : "vlmrl_token_logprobs_forward_cpu";
        String bwdName = cuda ? "vlmrl_token_logprobs_backward_cuda" : "vlmrl_token_logprobs_backward_cpu";
        Tensor weightT = weightData.t();
        // Everything the sweep allocates (the chunk buffer, its views, the callback's tensors) is
        // freed when it ends, not with the caller's scope: the backward's sweep never finds the
        // forward's buffer still allocated.
        try (PointerScope sweep = new PointerScope();
             Pointer guard = cuda ? CudaStreams.deviceGuard(hiddenFlat) : null;
             NativeKernels.TokenLogProbsConfig cfg = new NativeKernels.TokenLogProbsConfig();
             NativeKernels.TokenLogProbsResult result = new NativeKernels.TokenLogProbsResult()) {
            Pointer stream = cuda ? CudaStreams.current(hiddenFlat) : null;
            Tensor buffer = torch.empty(new long[] {rowsPerChunk, vocab}, hiddenFlat.options(), new MemoryFormatOptional());
            for (long start = 0; start < n; start += rowsPerChunk) {
                long rows = Math.min(rowsPerChunk, n - start);
                Tensor h = hiddenFlat.narrow(0, start, rows);
                Tensor z = rows == rowsPerChunk ? buffer : buffer.narrow(0, 0, rows);
                torch.mm_out(z, h, weightT);
                cfg.n_rows(rows).vocab(vocab).row_stride(vocab).temperature(temperature).dtype(dtypeCode)
                        .nonfinite_policy(policy.nativeCode());
                Pointer y = targets.narrow(0, start, rows).data_ptr();
                Tensor logp = logpFlat.narrow(0, start, rows);
                Tensor entropy = entropyFlat == null ? null : entropyFlat.narrow(0, start, rows);
                Tensor lseChunk = lseFlat.narrow(0, start, rows);
                Pointer lse = lseChunk.data_ptr();
                if (forward) {
                    int code = cuda
                            ? NativeKernels.vlmrl_token_logprobs_forward_cuda(cfg, z.data_ptr(), y, logp.data_ptr(),
                                    ptr(entropy), lse, result, stream)
                            : NativeKernels.vlmrl_token_logprobs_forward_cpu(cfg, z.data_ptr(), y, logp.data_ptr(),
                                    ptr(entropy), lse, result);
                    NativeKernels.check(code, fwdName);
                    if (result.nonfinite_count() > 0) {
                        if (policy == NonFinitePolicy.ERROR) {
                            throw NonFiniteLogitsException.ofRow(z.select(0, result.first_nonfinite()),
                                    start + result.first_nonfinite(), rowShape, NonFiniteLogitsException.Formula.LM_HEAD);
                        }
                        nonFiniteRows += result.nonfinite_count();
                    }
                }
                if (!backward) {
                    continue;
                }
                Tensor gl;
                Tensor ge;
                if (upstream != null) {
                    Upstream u = upstream.of(start, logp, entropy);
                    gl = chunkUpstream("gradLogp", u == null ? null : u.gradLogp(), rows, start);
                    ge = chunkUpstream("gradEntropy", u == null ? null : u.gradEntropy(), rows, start);
                    if (ge != null && entropy == null) {
                        throw new IllegalArgumentException("gradEntropy: expected null because the forward ran with "
                                + "withEntropy = false, got a tensor for rows [" + start + ", " + (start + rows) + ")");
                    }
                } else {
                    gl = gLogp == null ? null : gLogp.narrow(0, start, rows);
                    ge = gEntropy == null ? null : gEntropy.narrow(0, start, rows);
                }
                // dL/dz over z, in place: the kernel reads each block of a row before writing it.
                int code = cuda
                        ? NativeKernels.vlmrl_token_logprobs_backward_cuda(cfg, z.data_ptr(), y, lse, ptr(entropy),
                                ptr(gl), ptr(ge), z.data_ptr(), stream)
                        : NativeKernels.vlmrl_token_logprobs_backward_cpu(cfg, z.data_ptr(), y, lse, ptr(entropy),
                                ptr(gl), ptr(ge), z.data_ptr());
                NativeKernels.check(code, bwdName);
                // Rows masked as non-finite have a zero dL/dz, but 0 · NaN = NaN: keep their
                // (possibly non-finite) h and W out of the products.
                Tensor maskedRows = nonFiniteRows > 0 ? lseChunk.isnan().unsqueeze(1) : null;
                if (maskedRows != null && !maskedRows.any().item_bool()) {
                    maskedRows = null;
                }
                if (gradHidden != null) {
                    Tensor dh = gradHidden.narrow(0, start, rows);
                    torch.mm_out(dh, z, weightData);
                    if (maskedRows != null) {
                        dh.masked_fill_(maskedRows, new Scalar(0.0));
                    }
                }
                if (gradWeight != null) {
                    gradWeight.addmm_(z.t(), maskedRows == null ? h : h.masked_fill(maskedRows, new Scalar(0.0)));
                }
            }
        }
    }

    // ------------------------------------------------------------------ autograd

    /** Where the backward writes: dL/dh [N, D] (null when h needs none) and dL/dW (null when W needs none). */
    private record Sinks(Tensor gradHidden, Tensor gradWeight, boolean weightIsRoot) {
    }

    private Sinks autogradSinks() {
        Tensor gradHidden = hidden.requires_grad() ? torch.empty_like(hiddenFlat) : null;
        if (!weight.requires_grad()) {
            return new Sinks(gradHidden, null, false);
        }
        if (weight.is_leaf()) {
            // Accumulate straight into W.grad, as AccumulateGrad would (no [V, D] temporary).
            Tensor grad = weight.grad();
            if (grad == null || !grad.defined()) {
                weight.mutable_grad().put(torch.empty(TensorChecks.sizes(weight), weightData.options(),
                        new MemoryFormatOptional()).zero_());
                grad = weight.grad();
            }
            return new Sinks(gradHidden, grad, false);
        }
        return new Sinks(gradHidden, torch.zeros_like(weightData), true);
    }

    private void joinAutograd(Sinks sinks) {
        backpropagated = true;
        TensorVector roots = new TensorVector();
        TensorVector grads = new TensorVector();
        if (sinks.gradHidden != null) {
            roots.push_back(hidden);
            grads.push_back(sinks.gradHidden.view(TensorChecks.sizes(hidden)));
        }
        if (sinks.weightIsRoot) {
            roots.push_back(weight);
            grads.push_back(sinks.gradWeight);
        }
        if (roots.size() > 0) {
            torch.backward(roots, grads, new BoolOptional(false), false, new TensorVector());
        }
    }

    private void requireSomethingToTrain() {
        if (!hidden.requires_grad() && !weight.requires_grad()) {
            throw new IllegalStateException("hidden, lmHeadWeight: neither requires grad, nothing to back-propagate into; "
                    + "use gradients(...) to get them");
        }
    }

    private void requireUnchanged() {
        if (hidden._version() != hiddenVersion || weight._version() != weightVersion) {
            throw new IllegalStateException("hidden, lmHeadWeight: modified since the forward (versions "
                    + hiddenVersion + ", " + weightVersion + " -> " + hidden._version() + ", " + weight._version()
                    + "); the saved logsumexp no longer matches them");
        }
    }

    // ------------------------------------------------------------------ checks and helpers

    private static long[] validate(Tensor hidden, Tensor weight, Tensor targets, double temperature, long chunkTokens) {
        TensorChecks.requireNonNull("hidden", hidden);
        TensorChecks.requireNonNull("lmHeadWeight", weight);
        TensorChecks.requireNonNull("targets", targets);
        if (hidden.dim() != 2 && hidden.dim() != 3) {
            throw new IllegalArgumentException("hidden: expected 2 dimensions [N, D] or 3 dimensions [B, T, D], got shape "
                    + TensorChecks.shape(hidden));
        }
        TensorChecks.requireDtype("hidden", hidden, ScalarType.Float, ScalarType.BFloat16);
        TensorChecks.requireDim("lmHeadWeight", weight, 2, "[V, D]");
        long d = hidden.size(-1);
        if (weight.size(1) != d) {
            throw new IllegalArgumentException("lmHeadWeight: expected shape [V, " + d + "] (D from hidden), got "
                    + TensorChecks.shape(weight));
        }
        if (weight.size(0) < 1) {
            throw new IllegalArgumentException("lmHeadWeight: expected a vocabulary size V >= 1, got shape "
                    + TensorChecks.shape(weight));
        }
        if (TensorChecks.dtype(weight) != TensorChecks.dtype(hidden)) {
            throw new IllegalArgumentException("lmHeadWeight: expected dtype " + TensorChecks.dtypeName(TensorChecks.dtype(hidden))
                    + " (same as hidden), got " + TensorChecks.dtypeName(TensorChecks.dtype(weight)));
        }
        TensorChecks.requireSameDevice("lmHeadWeight", weight, "hidden", hidden);
        long[] rowShape = Arrays.copyOf(TensorChecks.sizes(hidden), (int) hidden.dim() - 1);
        TensorChecks.requireShape("targets", targets, rowShape, "hidden's shape without the last dimension");
        TensorChecks.requireDtype("targets", targets, ScalarType.Long);
        TensorChecks.requireSameDevice("targets", targets, "hidden", hidden);
        TokenLogProbsArgs.requireTemperature(temperature);
        if (chunkTokens < 0) {
            throw new IllegalArgumentException("chunkTokens: expected >= 1, or 0 for the default, got " + chunkTokens);
        }
        long vocab = weight.size(0);
        if (targets.numel() > 0) {
            // Checked here so that an error names the row in the caller's shape, not in a chunk.
            Tensor bad = targets.lt(new Scalar(0)).logical_or(targets.ge(new Scalar(vocab)));
            if (bad.any().item_bool()) {
                long row = torch.nonzero(bad.reshape(-1)).get(0).item_long();
                throw new IllegalArgumentException("targets" + TensorChecks.index(row, rowShape)
                        + ": expected a token id in [0, " + vocab + "), got " + targets.reshape(-1).get(row).item_long());
            }
        }
        return rowShape;
    }

    private Tensor upstream(String name, Tensor grad) {
        if (grad == null) {
            return null;
        }
        TensorChecks.requireShape(name, grad, rowShape, "shape of targets");
        TensorChecks.requireSameDevice(name, grad, "hidden", hidden);
        return grad.detach().to(ScalarType.Float).reshape(-1).contiguous();
    }

    private Tensor upstreamEntropy(Tensor gradEntropy) {
        if (gradEntropy != null && entropyFlat == null) {
            throw new IllegalArgumentException("gradEntropy: expected null because the forward ran with "
                    + "withEntropy = false, got a tensor of shape " + TensorChecks.shape(gradEntropy));
        }
        return upstream("gradEntropy", gradEntropy);
    }

    private Tensor chunkUpstream(String name, Tensor grad, long rows, long start) {
        if (grad == null) {
            return null;
        }
        if (grad.numel() != rows) {
            throw new IllegalArgumentException(name + ": expected " + rows + " values for the chunk of rows [" + start
                    + ", " + (start + rows) + "), got shape " + TensorChecks.shape(grad));
        }
        TensorChecks.requireSameDevice(name, grad, "hidden", hidden);
        return grad.detach().to(ScalarType.Float).reshape(-1).contiguous();
    }

    private static Pointer ptr(Tensor t) {
        return t == null ? null : t.data_ptr();
    }

    private static Tensor floatVector(Tensor like, long n) {
        return torch.empty(new long[] {n}, like.options().dtype(new ScalarTypeOptional(ScalarType.Float)),
                new MemoryFormatOptional());
    }

}
