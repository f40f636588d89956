package io.vlmrl.bench;

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

/**
 * Token log-probs + entropy from logits, forward and backward: the fused kernels against
 * log_softmax + gather + entropy in LibTorch eager ops with autograd.
 *
 * <p>Besides time, each case records its peak extra resident memory: the high-water mark is
 * reset before every iteration and read after it; the largest rise over the iterations,
 * relative to the logits' size, goes to {@link PeakMemoryLog}. JMH runs every (method,
 * shape, dtype) in its own forked JVM, so no other case's allocations are mixed in. Both
 * sides allocate their logits gradient inside the measured call (autograd's logits.grad;
 * the fused backward's output buffer), so that buffer counts as extra memory on both.
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
    private FusedTokenLogProbsKernel kernel;
    private Tensor logitsLeaf;
    private long iterationStartResident;
    private long peakExtraBytes;

    @Setup(Level.Trial)
    public void setUp() {
        BenchThreads.configure();
        inputs = new TokenLogProbsInputs(shape, dtype, 7);
        kernel = new FusedTokenLogProbsKernel(inputs);
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
        kernel.close();
        inputs.close();
    }

    @Benchmark
    public double fused() {
        try (PointerScope scope = new PointerScope()) {
            Tensor gradLogits = torch.empty_like(inputs.logits);
            return kernel.forwardBackward(gradLogits);
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
