package io.vlmrl.bench;

import io.vlmrl.kernels.LmHeadLogProbs;
import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TokenLogProbs;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Fused LM head + token log-probs + entropy, forward and backward (dL/dh and dL/dW), from
 * hidden states h [N, D] and an LM head W [V, D]:
 *
 * <ul>
 *   <li>{@code fused}: {@link LmHeadLogProbs#forward} then {@link LmHeadLogProbs#backward}, chunk by
 *       chunk, never holding more than one chunk's logits; the backward recomputes each chunk's
 *       logits (4 N x D x V products);</li>
 *   <li>{@code fusedOnePass}: {@link LmHeadLogProbs#forwardBackward}, the upstream gradient of a
 *       chunk given as soon as its log-probs are known, as the trainer runs it (3 products);</li>
 *   <li>{@code unfused}: the logits path it replaces: {@code h.matmul(W.t())} with autograd, today's
 *       fused kernel on the materialised logits ({@link TokenLogProbs}, gradient written in place,
 *       as the trainer ran it), then autograd's matmul backward (3 products);</li>
 *   <li>{@code eager}: logits → log_softmax → gather / entropy → autograd in LibTorch ops
 *       ({@link EagerLmHeadBaseline}).</li>
 * </ul>
 *
 * <p>h and W are leaves that require grad, with gradients allocated once in the set-up (the
 * steady state of gradient accumulation over micro-batches), so every method accumulates into
 * the same existing h.grad and W.grad. Peak extra resident memory is measured as in
 * {@link TokenLogProbsBenchmark} (high-water mark reset before each iteration, each case in its
 * own JVM), over the measured iterations only, and recorded relative to the size of the [N, V]
 * logits. The process CPU time per call (least over the measured iterations) goes to
 * {@link CpuTimeLog}: on shared cores it is the steadier measure of the work each method does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 2, time = 1)
@Fork(1)
public class LmHeadLogProbsBenchmark {

    /** N x D x V: the shapes (Qwen's vocabulary). run.sh quick uses N = 512 / 1024. */
    @Param({"4096x2048x151936", "8192x1024x151936"})
    public String ndv;

    @Param({"fp32"})
    public String dtype;

    /** Tokens per chunk of the fused op; 0 = its default (about 128 MiB of logits). */
    @Param({"0"})
    public long chunk;

    private LmHeadInputs inputs;
    private long iterationStartResident;
    private long peakExtraBytes;
    private long iterationStartCpu;
    private long callsInIteration;
    private double minCpuNanosPerCall = Double.NaN;

    @Setup(Level.Trial)
    public void setUp() {
        BenchThreads.configure();
        inputs = new LmHeadInputs(ndv, dtype, 11);
    }

    @Setup(Level.Iteration)
    public void resetHighWater() {
        System.gc(); // let JavaCPP free any native memory still waiting for the GC
        iterationStartResident = NativeMemoryHighWater.resetAndReadResident();
        callsInIteration = 0;
        iterationStartCpu = CpuTimeLog.processCpuNanos();
    }

    /** Measured iterations only: the warm-up's first calls also allocate OpenBLAS's and LibTorch's own pools. */
    @TearDown(Level.Iteration)
    public void readHighWater(IterationParams iteration) {
        long cpu = CpuTimeLog.processCpuNanos() - iterationStartCpu;
        if (iteration.getType() == IterationType.MEASUREMENT) {
            peakExtraBytes = Math.max(peakExtraBytes, NativeMemoryHighWater.highWaterBytes() - iterationStartResident);
            if (callsInIteration > 0) {
                double perCall = (double) cpu / callsInIteration;
                minCpuNanosPerCall = Double.isNaN(minCpuNanosPerCall) ? perCall : Math.min(minCpuNanosPerCall, perCall);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown(BenchmarkParams params) {
        PeakMemoryLog.record(params.getBenchmark(), memoryKey(ndv, dtype, chunk), peakExtraBytes,
                inputs.logitsBytes());
        if (!Double.isNaN(minCpuNanosPerCall)) {
            CpuTimeLog.record(params.getBenchmark(), memoryKey(ndv, dtype, chunk), minCpuNanosPerCall);
        }
        inputs.close();
    }

    /** Runs the methods on given inputs (BaselineAgreement's check, outside JMH). */
    void useInputs(LmHeadInputs given) {
        inputs = given;
    }

    /** The params part of this benchmark's peak-memory records. */
    public static String memoryKey(String ndv, String dtype, long chunk) {
        return "ndv=" + ndv + ";dtype=" + dtype + ";chunk=" + chunk;
    }

    @Benchmark
    public double fused() {
        callsInIteration++;
        try (PointerScope scope = new PointerScope()) {
            LmHeadLogProbs lp = LmHeadLogProbs.forward(inputs.h, inputs.w, inputs.targets, 1.0, true, chunk,
                    NonFinitePolicy.ERROR);
            lp.backward(inputs.gradLogp, inputs.gradEntropy);
            return lp.logp().data_ptr_float().get(0);
        }
    }

    @Benchmark
    public double fusedOnePass() {
        callsInIteration++;
        try (PointerScope scope = new PointerScope()) {
            LmHeadLogProbs lp = LmHeadLogProbs.forwardBackward(inputs.h, inputs.w, inputs.targets, 1.0, true, chunk,
                    NonFinitePolicy.ERROR, (start, logp, entropy) -> new LmHeadLogProbs.Upstream(
                            inputs.gradLogp.narrow(0, start, logp.numel()),
                            inputs.gradEntropy.narrow(0, start, logp.numel())));
            return lp.logp().data_ptr_float().get(0);
        }
    }

    @Benchmark
    public double unfused() {
        callsInIteration++;
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = torch.matmul(inputs.h, inputs.w.t());
            TokenLogProbs lp = TokenLogProbs.forward(logits, inputs.targets, 1.0, true, NonFinitePolicy.ERROR);
            lp.backward(inputs.gradLogp, inputs.gradEntropy, true);
            return lp.logp().data_ptr_float().get(0);
        }
    }

    @Benchmark
    public double eager() {
        callsInIteration++;
        try (PointerScope scope = new PointerScope()) {
            Tensor surrogate = EagerLmHeadBaseline.surrogate(inputs);
            surrogate.backward();
            return surrogate.item_double();
        }
    }
}
