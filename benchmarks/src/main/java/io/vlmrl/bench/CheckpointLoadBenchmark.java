package io.vlmrl.bench;

import io.vlmrl.hf.SafeDtype;
import io.vlmrl.hf.SafeTensors;
import io.vlmrl.hf.SafeTensorsFile;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.AuxCounters;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Loading a checkpoint's weights against reading its file: a safetensors file of
 * {@code sizeMb} megabytes of {@code dtype} tensors read into float32 LibTorch tensors
 * ({@link SafeTensorsFile#readFloat32}, the loader's path: mapped per tensor, converted, copied
 * into a new tensor), and the same file read once into a direct buffer (the peer). The file is
 * in the page cache for both after the warm-up, so the ratio shows the loader's overhead over one
 * read of the bytes. The {@link Bytes} counter reports the file's bytes per operation, from which
 * the report derives MB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class CheckpointLoadBenchmark {

    @Param({"256"})
    public int sizeMb;

    @Param({"bf16", "f32"})
    public String dtype;

    private Path dir;
    private Path file;
    private long fileBytes;
    private ByteBuffer buffer;

    /** The file's bytes, once per operation. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        BenchThreads.configure();
        dir = Files.createTempDirectory("vlmrl-bench-load-");
        file = dir.resolve("model.safetensors");
        SafeDtype stored = dtype.equals("bf16") ? SafeDtype.BF16 : SafeDtype.F32;
        long elementBytes = stored == SafeDtype.BF16 ? 2 : 4;
        // Tensors of 32 MB each, like the rows of a large model's layers.
        long perTensor = (32L << 20) / elementBytes;
        int count = Math.max(1, (int) (((long) sizeMb << 20) / elementBytes / perTensor));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < count; i++) {
                tensors.put("layers." + i + ".weight", torch.randn(perTensor / 1024, 1024));
            }
            SafeTensors.write(file, tensors, Map.of("format", "pt"), stored);
        }
        fileBytes = Files.size(file);
        buffer = ByteBuffer.allocateDirect(64 << 20);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public long loadIntoFloat32Tensors(Bytes counter) throws IOException {
        long elements = 0;
        try (SafeTensorsFile f = SafeTensors.open(file)) {
            for (String name : f.names()) {
                try (PointerScope scope = new PointerScope()) {
                    elements += f.readFloat32(name).numel();
                }
            }
        }
        counter.bytes += fileBytes;
        return elements;
    }

    @Benchmark
    public long readTheFile(Bytes counter) throws IOException {
        long read = 0;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int n; (n = channel.read(buffer.clear())) > 0; ) read += n;
        }
        counter.bytes += fileBytes;
        return read;
    }
}
