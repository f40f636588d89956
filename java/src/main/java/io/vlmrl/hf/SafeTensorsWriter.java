package io.vlmrl.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes safetensors files the way {@code safetensors.torch.save_file} and transformers'
 * {@code save_pretrained} do, so that Hugging Face code reads them back.
 *
 * <ul>
 *   <li>One file: header {@code {"__metadata__": {...}, name: {dtype, shape, data_offsets}}}, compact
 *       JSON padded with spaces to a multiple of 8 bytes; tensors laid out by decreasing element size,
 *       then by name (the reference order, which keeps every tensor aligned to its element size).</li>
 *   <li>A model directory ({@link #writeModel}): tensors split, in the map's order, into shards of at
 *       most {@code maxShardBytes} (a larger tensor gets a shard of its own, as in
 *       {@code huggingface_hub.split_torch_state_dict_into_shards}), written as
 *       {@code model-0000k-of-0000n.safetensors} plus {@value SafeTensorsDirectory#INDEX_FILE}
 *       ({@code metadata.total_size}, {@code weight_map}); a single shard is written as
 *       {@value SafeTensorsDirectory#SINGLE_FILE} with no index.</li>
 * </ul>
 * Every file is written to a temporary file in the target directory, forced to disk, and moved
 * into place atomically, so a crash never leaves a half-written file under the final name. Tensors
 * keep their dtype unless a floating-point dtype is given for the floating-point ones (e.g. BF16,
 * rounded to nearest even by LibTorch). Tensors may live on any device; each is copied to the CPU
 * one at a time inside its own {@code PointerScope}, so writing needs at most one tensor's worth
 * of extra memory.
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
    private static final int WRITE_CHUNK = 1 << 26;

    private SafeTensorsWriter() {
    }

    /**
     * Writes {@code tensors} to {@code file}.
     *
     * @param metadata   {@code __metadata__} strings (may be empty; null means {@code {"format": "pt"}})
     * @param floatDtype dtype for every floating-point tensor, or null to keep each tensor's own
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, SafeDtype floatDtype)
            throws IOException {
        write(file, tensors, metadata, floatDtype, WRITE_CHUNK);
    }

    /** {@link #write(Path, Map, Map, SafeDtype)} copying at most {@code chunk} bytes at once (small values test the piecewise copy). */
    static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, SafeDtype floatDtype, int chunk)
            throws IOException {
        if (floatDtype != null && !floatDtype.isFloatingPoint()) {
            throw new IllegalArgumentException("floatDtype must be a floating-point dtype, got " + floatDtype);
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            entries.add(entry(file, e.getKey(), e.getValue(), floatDtype));
        }
        entries.sort(Comparator.comparingInt((Entry e) -> -e.dtype.size()).thenComparing(e -> e.name));
        byte[] header = header(entries, metadata == null ? Map.of("format", "pt") : metadata);
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(out, length, file);
                writeFully(out, ByteBuffer.wrap(header), file);
                for (Entry e : entries) {
                    writeData(out, file, e, chunk);
                }
                out.force(true);
            }
            moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes a model's weights into {@code dir} in the Hugging Face layout (see the class comment)
     * and deletes weight files of an earlier save that the new layout does not use (a stale
     * {@code model.safetensors}, index or shard would otherwise be picked up by loaders).
     *
     * @param tensors       name -> tensor, in the order the shards should follow
     * @param floatDtype    dtype for floating-point tensors, or null to keep each tensor's own
     * @param maxShardBytes most data bytes per shard (> 0)
     * @return the weight files written, in shard order (the index file last, if any)
     */
    public static List<Path> writeModel(Path dir, Map<String, Tensor> tensors, SafeDtype floatDtype, long maxShardBytes)
            throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be > 0, got " + maxShardBytes);
        }
        Files.createDirectories(dir);
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0, totalBytes = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bytes = entry(dir, e.getKey(), e.getValue(), floatDtype).bytes();
            totalBytes += bytes;
            if (bytes > maxShardBytes) {
                shards.add(new LinkedHashMap<>(Map.of(e.getKey(), e.getValue())));
                continue;
            }
            if (currentBytes + bytes > maxShardBytes && !current.isEmpty()) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path single = dir.resolve(SafeTensorsDirectory.SINGLE_FILE);
            write(single, shards.get(0), null, floatDtype);
            written.add(single);
        } else {
            Map<String, String> weightMap = new TreeMap<>();
            for (int i = 0; i < shards.size(); i++) {
                String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                Path shard = dir.resolve(name);
                write(shard, shards.get(i), null, floatDtype);
                written.add(shard);
                for (String tensor : shards.get(i).keySet()) {
                    weightMap.put(tensor, name);
                }
            }
            Path index = dir.resolve(SafeTensorsDirectory.INDEX_FILE);
            writeAtomically(index, indexJson(totalBytes, weightMap).getBytes(StandardCharsets.UTF_8));
            written.add(index);
        }
        deleteStale(dir, written);
        return written;
    }

    /** {@code json.dumps({"metadata": {"total_size": n}, "weight_map": ...}, indent=2, sort_keys=True)}. */
    static String indexJson(long totalBytes, Map<String, String> sortedWeightMap) throws JsonProcessingException {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalBytes).append("\n  },\n  \"weight_map\": {\n");
        int i = 0;
        for (Map.Entry<String, String> e : sortedWeightMap.entrySet()) {
            sb.append("    ").append(JSON.writeValueAsString(e.getKey())).append(": ")
                    .append(JSON.writeValueAsString(e.getValue()));
            sb.append(++i < sortedWeightMap.size() ? ",\n" : "\n");
        }
        return sb.append("  }\n}\n").toString();
    }

    private static void deleteStale(Path dir, List<Path> written) throws IOException {
        Set<Path> keep = Set.copyOf(written);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                boolean weightFile = name.equals(SafeTensorsDirectory.SINGLE_FILE)
                        || name.equals(SafeTensorsDirectory.INDEX_FILE) || SHARD_NAME.matcher(name).matches();
                if (weightFile && !keep.contains(f)) {
                    Files.delete(f);
                }
            }
        }
    }

    /** One tensor to write: its name, the tensor, the dtype it is written in, and its offsets. */
    private static final class Entry {
        final String name;
        final Tensor tensor;
        final SafeDtype dtype;
        final long[] shape;
        long begin;

        Entry(String name, Tensor tensor, SafeDtype dtype, long[] shape) {
            this.name = name;
            this.tensor = tensor;
            this.dtype = dtype;
            this.shape = shape;
        }

        long bytes() {
            long n = dtype.size();
            for (long s : shape) {
                n *= s;
            }
            return n;
        }
    }

    private static Entry entry(Path file, String name, Tensor t, SafeDtype floatDtype) throws SafeTensorsException {
        if (name == null || name.isEmpty() || name.equals("__metadata__")) {
            throw new SafeTensorsException(file, name, "tensor name must be non-empty and not __metadata__");
        }
        if (t == null || !t.defined()) {
            throw new SafeTensorsException(file, name, "tensor is null or undefined");
        }
        SafeDtype own;
        try {
            own = SafeDtype.of(t.scalar_type());
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, name, e.getMessage(), e);
        }
        SafeDtype dtype = floatDtype != null && own.isFloatingPoint() ? floatDtype : own;
        long[] shape = new long[(int) t.dim()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.size(i);
        }
        return new Entry(name, t, dtype, shape);
    }

    private static byte[] header(List<Entry> entries, Map<String, String> metadata) throws JsonProcessingException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            e.begin = offset;
            offset += e.bytes();
            ObjectNode node = root.putObject(e.name);
            node.put("dtype", e.dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (long s : e.shape) {
                shape.add(s);
            }
            node.putArray("data_offsets").add(e.begin).add(offset);
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(FileChannel out, Path file, Entry e, int chunkBytes) throws IOException {
        long n = e.bytes();
        if (n == 0) {
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor cpu = e.tensor.detach().to(new Device("cpu"), e.dtype.scalarType()).contiguous();
            if (cpu.nbytes() != n) {
                throw new SafeTensorsException(file, e.name, "expected " + n + " bytes of data, the tensor has " + cpu.nbytes());
            }
            BytePointer base = new BytePointer(cpu.data_ptr());
            for (long done = 0; done < n; ) {
                int len = (int) Math.min(n - done, chunkBytes);
                BytePointer chunk = base.getPointer(done);
                chunk.capacity(len).limit(len);
                writeFully(out, chunk.asByteBuffer(), file);
                done += len;
            }
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer, Path file) throws IOException {
        io.vlmrl.files.DiskWrites.reserve(file, buffer.remaining());
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    /** Writes {@code bytes} to {@code file} through a temporary sibling and an atomic move. */
    public static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(out, ByteBuffer.wrap(bytes), file);
                out.force(true);
            }
            moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void moveIntoPlace(Path tmp, Path file) throws IOException {
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
