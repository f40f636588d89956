package io.vlmrl.bench;

import io.vlmrl.kernels.NativeKernels;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's attainable memory bandwidth: STREAM triad a = b + s * c in native OpenMP
 * code ({@code vlmrl_stream_triad_cpu}), with the same thread count as the kernels. Bytes
 * moved per element: read b and c, write a = 12 (STREAM's convention, which does not count
 * the write-allocate read of a; the kernels' byte models follow the same convention).
 * The arrays are far larger than the last-level cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class StreamTriadBenchmark {

    /** Elements per array: 32 Mi floats = 128 MiB each, 384 MiB in all. */
    @Param({"33554432"})
    public long elements;

    private Tensor a;
    private Tensor b;
    private Tensor c;

    @Setup
    public void setUp() {
        BenchThreads.configure();
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        // Filled (so every page is resident) by the same thread count that runs the triad.
        a = torch.zeros(new long[] {elements}, f32);
        b = torch.rand(new long[] {elements}, f32);
        c = torch.rand(new long[] {elements}, f32);
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
        c.close();
    }

    @Benchmark
    public long triad() {
        NativeKernels.vlmrl_stream_triad_cpu(a.data_ptr(), b.data_ptr(), c.data_ptr(), 3.0f, elements);
        return elements;
    }

    /** Bytes the triad moves per call. */
    public static long bytesMoved(long elements) {
        return 12L * elements;
    }
}
