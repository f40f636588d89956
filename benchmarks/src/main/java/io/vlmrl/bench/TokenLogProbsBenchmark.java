package io.vlmrl.bench;

import io.vlmrl.kernels.EagerTokenLogProbs;
import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TokenLogProbs;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
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

/**
 * Token log-probs + entropy from logits, forward and backward: the fused kernels against
 * log_softmax + gather + entropy in LibTorch eager ops with autograd.
 *
 * <ul>
 *   <li>{@code fused}: the library's {@link TokenLogProbs} forward, then its backward into a
 *       new gradient buffer (inPlace = false);</li>
 *   <li>{@code fusedInPlace}: the same with inPlace = true, the gradient overwriting the
 *       logits, as the trainer runs it (the logits are restored, untimed, before each call);</li>
 *   <li>{@code eager}: the lean LibTorch formulation with autograd ({@link EagerTokenLogProbsBaseline}),
 *       the speed-up's denominator;</li>
 *   <li>{@code eagerLibrary}: the library's eager reference backend ({@link EagerTokenLogProbs}).</li>
 * </ul>
 *
 * <p>Besides time, each case records its peak extra resident memory: the high-water mark is
 * reset before every iteration and read after it; the largest rise over the iterations,
 * relative to the logits' size, goes to {@link PeakMemoryLog}. JMH runs every (method,
 * shape, dtype) in its own forked JVM, so no other case's allocations are mixed in. Both
 * sides allocate their logits gradient inside the measured call (autograd's logits.grad;
 * the fused backward's output buffer), so that buffer counts as extra memory on both;
 * {@code fusedInPlace} writes it over the logits instead.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class TokenLogProbsBenchmark {

    @Param({"2048x32768", "512x151936"})
    public String shape;

    @Param({"fp32", "bf16"})
    public String dtype;

    private TokenLogProbsInputs inputs;
    private Tensor logitsLeaf;
    private long iterationStartResident;
    private long peakExtraBytes;

    @Setup(Level.Trial)
    public void setUp() {
        BenchThreads.configure();
        inputs = new TokenLogProbsInputs(shape, dtype, 7);
        logitsLeaf = inputs.logits.detach().requires_grad_(true);
    }

    @Setup(Level.Iteration)
    public void resetHighWater() {
        System.gc(); // let JavaCPP free any native memory still waiting for the GC
        iterationStartResident = NativeMemoryHighWater.resetAndReadResident();
    }

    @TearDown(Level.Iteration)
    public void readHighWater() {
        peakExtraBytes = Math.max(peakExtraBytes, NativeMemoryHighWater.highWaterBytes() - iterationStartResident);
    }

    @TearDown(Level.Trial)
    public void tearDown(BenchmarkParams params) {
        PeakMemoryLog.record(params.getBenchmark(), "shape=" + shape + ";dtype=" + dtype,
                peakExtraBytes, inputs.logitsBytes());
        inputs.close();
    }

    /** Logits the in-place backward may overwrite: a copy of the inputs', restored before each call. */
    @State(Scope.Thread)
    public static class OverwritableLogits {
        Tensor logits;

        @Setup(Level.Trial)
        public void allocate(TokenLogProbsBenchmark benchmark) {
            logits = benchmark.inputs.logits.clone();
        }

        @Setup(Level.Invocation)
        public void restore(TokenLogProbsBenchmark benchmark) {
            logits.copy_(benchmark.inputs.logits);
        }

        @TearDown(Level.Trial)
        public void free() {
            logits.close();
        }
    }

    @Benchmark
    public double fused() {
        return fusedForwardBackward(inputs.logits, false);
    }

    @Benchmark
    public double fusedInPlace(OverwritableLogits overwritable) {
        return fusedForwardBackward(overwritable.logits, true);
    }

    private double fusedForwardBackward(Tensor logits, boolean inPlace) {
        try (PointerScope scope = new PointerScope()) {
            TokenLogProbs lp = TokenLogProbs.forward(logits, inputs.targets, 1.0, true, NonFinitePolicy.ERROR);
            Tensor grad = lp.gradLogits(inputs.gradLogp, inputs.gradEntropy, inPlace);
            return lp.logp().data_ptr_float().get(0) + grad.numel();
        }
    }

    @Benchmark
    public double eagerLibrary() {
        try (PointerScope scope = new PointerScope()) {
            EagerTokenLogProbs lp = EagerTokenLogProbs.forward(inputs.logits, inputs.targets, 1.0, true,
                    NonFinitePolicy.ERROR);
            Tensor grad = lp.gradLogits(inputs.gradLogp, inputs.gradEntropy, false);
            return lp.logp().data_ptr_float().get(0) + grad.numel();
        }
    }

    @Benchmark
    public double eager() {
        try (PointerScope scope = new PointerScope()) {
            Tensor surrogate = EagerTokenLogProbsBaseline.surrogate(logitsLeaf, inputs);
            surrogate.backward();
            // The gradient exists now; dropping it makes the next call allocate it afresh.
            double value = surrogate.item_double() + logitsLeaf.grad().numel();
            logitsLeaf.mutable_grad().reset();
            return value;
        }
    }
}
