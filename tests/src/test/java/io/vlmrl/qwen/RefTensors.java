package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A test-only safetensors reader for the fixture's reference tensors, independent of the main
 * code's reader so that a bug there cannot hide in both: 8-byte little-endian header length, the JSON
 * header ({@code name -> {dtype, shape, data_offsets}}, offsets relative to the end of the header),
 * then the raw little-endian data. Reads U8, F32, I32 and I64.
 */
final class RefTensors {

    /** One tensor: its dtype, shape and raw bytes. */
    record Entry(String dtype, long[] shape, byte[] data) {
        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final Path file;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    RefTensors(Path file) throws IOException {
        this.file = file;
        byte[] all = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = buf.getLong(0);
        if (headerLen <= 0 || 8 + headerLen > all.length) {
            throw new IOException(file + ": header length " + headerLen + " does not fit the file of " + all.length + " bytes");
        }
        String json = new String(all, 8, (int) headerLen, StandardCharsets.UTF_8);
        JsonNode header = new ObjectMapper().readTree(json);
        int dataStart = 8 + (int) headerLen;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            byte[] data = new byte[(int) (end - begin)];
            System.arraycopy(all, dataStart + (int) begin, data, 0, data.length);
            Entry entry = new Entry(t.get("dtype").asText(), shape, data);
            long expected = entry.numel() * switch (entry.dtype()) {
                case "U8" -> 1;
                case "F32", "I32" -> 4;
                case "I64" -> 8;
                default -> 0;
            };
            if (expected != 0 && expected != data.length) {
                throw new IOException(file + ": tensor " + e.getKey() + " has " + data.length + " bytes, expected " + expected);
            }
            entries.put(e.getKey(), entry);
        }
    }

    Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(file + " has no tensor " + name);
        }
        return e;
    }

    long[] shape(String name) {
        return entry(name).shape().clone();
    }

    byte[] u8(String name) {
        Entry e = requireDtype(name, "U8");
        return e.data().clone();
    }

    float[] f32(String name) {
        Entry e = requireDtype(name, "F32");
        float[] out = new float[(int) e.numel()];
        ByteBuffer.wrap(e.data()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    long[] i64(String name) {
        Entry e = requireDtype(name, "I64");
        long[] out = new long[(int) e.numel()];
        ByteBuffer.wrap(e.data()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }

    private Entry requireDtype(String name, String dtype) {
        Entry e = entry(name);
        if (!e.dtype().equals(dtype)) {
            throw new IllegalArgumentException(file + ": tensor " + name + " is " + e.dtype() + ", expected " + dtype);
        }
        return e;
    }
}
