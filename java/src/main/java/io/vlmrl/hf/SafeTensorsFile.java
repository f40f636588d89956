package io.vlmrl.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads one safetensors file: an 8-byte little-endian header length n, n bytes of JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus an optional {@code __metadata__} map of
 * strings), then the data section. {@code data_offsets} are relative to the data section.
 *
 * <p>{@link #open} reads and validates the whole header: every entry must have a known dtype, a
 * shape of non-negative sizes, and offsets inside the file whose length is exactly
 * {@code numel × dtype size}; entries must not overlap. Any violation throws a
 * {@link SafeTensorsException} naming the file and the tensor.
 *
 * <h2>Memory</h2>
 * The file is never copied through the Java heap. {@link #read} maps the tensor's byte range with
 * {@link FileChannel#map} (in pieces of at most {@value #MAP_CHUNK} bytes, so tensors and files
 * larger than 2 GB work), wraps each mapped piece as a LibTorch tensor with {@code from_blob}
 * (which does not own it), and copies it into a freshly allocated LibTorch tensor. The mapping is
 * kept reachable until the copy is done and is released by the JVM afterwards; the returned
 * tensor owns its memory (LibTorch's allocator) and does not depend on the file or this reader.
 * The open {@link FileChannel} is the only resource this object holds; {@link #close} closes it.
 */
public final class SafeTensorsFile implements SafeTensorsReader {
    /** Largest byte range mapped at once (1 GiB). */
    static final int MAP_CHUNK = 1 << 30;
    /** Header lengths above this are refused as corrupt (the reference implementation's limit). */
    static final long MAX_HEADER = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final int mapChunk;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, SafeTensorInfo> tensors; // sorted by name
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path file, int mapChunk, FileChannel channel, long dataStart,
                            Map<String, SafeTensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.mapChunk = mapChunk;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens {@code file} and reads its header; see the class comment for what is checked. */
    public static SafeTensorsFile open(Path file) throws IOException {
        return open(file, MAP_CHUNK);
    }

    /** {@link #open(Path)} mapping at most {@code mapChunk} bytes at once (small values test the piecewise copy). */
    static SafeTensorsFile open(Path file, int mapChunk) throws IOException {
        if (mapChunk <= 0) {
            throw new IllegalArgumentException("mapChunk must be > 0, got " + mapChunk);
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new SafeTensorsException(file, null, "this reader needs a little-endian machine");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafeTensorsException(file, null, "missing", e);
        }
        try {
            return readHeader(file, channel, mapChunk);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static SafeTensorsFile readHeader(Path file, FileChannel channel, int mapChunk) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new SafeTensorsException(file, null, "truncated: " + size + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 2 || headerLength > MAX_HEADER) {
            throw new SafeTensorsException(file, null, "header length " + Long.toUnsignedString(headerLength)
                    + " is not in [2, " + MAX_HEADER + "] (corrupt file?)");
        }
        if (8 + headerLength > size) {
            throw new SafeTensorsException(file, null, "header length " + headerLength + " goes past the end of the file ("
                    + size + " bytes): truncated?");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(file, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException(file, null, "header must be a JSON object, got "
                    + (root == null ? "nothing" : root.getNodeType()));
        }
        long dataStart = 8 + headerLength;
        long dataLength = size - dataStart;
        Map<String, SafeTensorInfo> tensors = new TreeMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                readMetadata(file, e.getValue(), metadata);
            } else {
                tensors.put(e.getKey(), parseEntry(file, e.getKey(), e.getValue(), dataLength));
            }
        }
        checkNoOverlap(file, tensors);
        return new SafeTensorsFile(file, mapChunk, channel, dataStart, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) throws SafeTensorsException {
        if (!node.isObject()) {
            throw new SafeTensorsException(file, null, "__metadata__ must be an object of strings, got " + node.getNodeType());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new SafeTensorsException(file, null, "__metadata__." + m.getKey() + " must be a string, got "
                        + m.getValue().getNodeType());
            }
            out.put(m.getKey(), m.getValue().asText());
        }
    }

    private static SafeTensorInfo parseEntry(Path file, String name, JsonNode node, long dataLength)
            throws SafeTensorsException {
        if (!node.isObject()) {
            throw new SafeTensorsException(file, name, "header entry must be an object, got " + node.getNodeType());
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafeTensorsException(file, name, "header entry has no dtype string");
        }
        SafeDtype dtype = SafeDtype.fromHeaderName(dtypeNode.asText());
        if (dtype == null) {
            throw new SafeTensorsException(file, name, "unknown or unsupported dtype \"" + dtypeNode.asText()
                    + "\" (supported: " + java.util.Arrays.toString(SafeDtype.values()) + ")");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new SafeTensorsException(file, name, "header entry has no shape array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode s = shapeNode.get(i);
            if (!s.canConvertToLong() || !s.isIntegralNumber() || s.asLong() < 0) {
                throw new SafeTensorsException(file, name, "shape entries must be non-negative integers, got " + shapeNode);
            }
            shape[i] = s.asLong();
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2 || !offsets.get(0).isIntegralNumber()
                || !offsets.get(1).isIntegralNumber()) {
            throw new SafeTensorsException(file, name, "data_offsets must be [begin, end], got " + offsets);
        }
        long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new SafeTensorsException(file, name, "data_offsets " + offsets + " must satisfy 0 <= begin <= end");
        }
        if (end > dataLength) {
            throw new SafeTensorsException(file, name, "data_offsets " + offsets + " go past the end of the data section ("
                    + dataLength + " bytes): truncated file?");
        }
        SafeTensorInfo info = new SafeTensorInfo(name, dtype, shape, begin, end);
        long expected;
        try {
            expected = Math.multiplyExact(info.numel(), (long) dtype.size());
        } catch (ArithmeticException e) {
            throw new SafeTensorsException(file, name, "shape " + shapeNode + " is too large", e);
        }
        if (end - begin != expected) {
            throw new SafeTensorsException(file, name, "data_offsets " + offsets + " hold " + (end - begin)
                    + " bytes, but " + dtype + " " + shapeNode + " needs " + expected);
        }
        return info;
    }

    private static void checkNoOverlap(Path file, Map<String, SafeTensorInfo> tensors) throws SafeTensorsException {
        List<SafeTensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(SafeTensorInfo::begin).thenComparingLong(SafeTensorInfo::end));
        for (int i = 1; i < byOffset.size(); i++) {
            SafeTensorInfo a = byOffset.get(i - 1), b = byOffset.get(i);
            if (b.begin() < a.end()) {
                throw new SafeTensorsException(file, b.name(), "data_offsets [" + b.begin() + ", " + b.end()
                        + ") overlap those of " + a.name() + " [" + a.begin() + ", " + a.end() + ")");
            }
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /** The path this reader was opened on. */
    public Path path() {
        return file;
    }

    /** The {@code __metadata__} strings (empty if the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every header entry, by name (sorted). */
    public Map<String, SafeTensorInfo> tensors() {
        return tensors;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public SafeTensorInfo info(String name) throws SafeTensorsException {
        SafeTensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafeTensorsException(file, name, "no such tensor (the file has " + tensors.size() + ")");
        }
        return info;
    }

    @Override
    public Path fileOf(String name) throws SafeTensorsException {
        info(name);
        return file;
    }

    @Override
    public Tensor read(String name) throws IOException {
        SafeTensorInfo info = info(name);
        long n = info.byteLength();
        Tensor bytes = torch.empty(new long[] {n}, new TensorOptions(torch.ScalarType.Byte),
                new MemoryFormatOptional());
        try {
            for (long done = 0; done < n; ) {
                int chunk = (int) Math.min(n - done, mapChunk);
                MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin() + done, chunk);
                // from_blob does not own the mapping: copy out of it while `mapped` is reachable.
                BytePointer pointer = new BytePointer(mapped);
                Tensor view = torch.from_blob(pointer, new long[] {chunk}, new TensorOptions(torch.ScalarType.Byte));
                bytes.narrow(0, done, chunk).copy_(view);
                view.close();
                pointer.close();
                Reference.reachabilityFence(mapped);
                done += chunk;
            }
        } catch (IOException | RuntimeException e) {
            throw new SafeTensorsException(file, name, "cannot read " + n + " bytes at data offset " + info.begin()
                    + ": " + e.getMessage(), e);
        }
        Tensor typed = info.dtype() == SafeDtype.U8 ? bytes : bytes.view(info.dtype().scalarType());
        return typed.view(info.shape());
    }

    @Override
    public Tensor readFloat32(String name) throws IOException {
        Tensor t = read(name);
        return t.scalar_type().value == torch.ScalarType.Float.value ? t : t.to(torch.ScalarType.Float);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile(" + file + ", " + tensors.size() + " tensors)";
    }
}
