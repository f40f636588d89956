package io.vlmrl.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.qwen.QwenFixture;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.vlmrl.qwen.QwenFixture.longs;
import static io.vlmrl.qwen.QwenFixture.shape;
import static org.junit.jupiter.api.Assertions.*;

/** Reading the fixture's safetensors files, refusing corrupt ones, and writing files Hugging Face can read. */
class SafeTensorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void readsTheHeaderOfTheModelFile() throws IOException {
        try (SafeTensorsFile f = SafeTensors.open(QwenFixture.float32().resolve("model.safetensors"))) {
            assertEquals(92, f.names().size());
            assertEquals(Map.of("format", "pt"), f.metadata());
            SafeTensorInfo embed = f.info("model.embed_tokens.weight");
            assertEquals(SafeDtype.F32, embed.dtype());
            assertArrayEquals(new long[] {1024, 64}, embed.shape());
            assertEquals(0, embed.begin());
            assertEquals(262144, embed.end());
            assertArrayEquals(new long[] {32, 3, 2, 14, 14}, f.info("visual.patch_embed.proj.weight").shape());
            assertFalse(f.contains("lm_head.weight"), "tied checkpoint has no lm_head.weight");
            long total = f.tensors().values().stream().mapToLong(SafeTensorInfo::byteLength).sum();
            assertEquals(1028224, total, "metadata.total_size of the sharded copy");
            long params = f.tensors().values().stream().mapToLong(SafeTensorInfo::numel).sum();
            assertEquals(257056, params);
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> f.info("nope"));
            assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("model.safetensors"), e.getMessage());
        }
    }

    @Test
    void readsEveryDtypeOfTheReferenceFile() throws IOException {
        JsonNode ref = QwenFixture.referenceJson(QwenFixture.float32());
        try (PointerScope scope = new PointerScope(); SafeTensorsFile f = QwenFixture.references(QwenFixture.float32())) {
            assertEquals("qwen25vl-fixture/1", f.metadata().get("format"));
            assertEquals("27", f.metadata().get("seed"));
            // every entry agrees with reference.json's tensor index
            JsonNode index = ref.get("tensors");
            assertEquals(index.size(), f.names().size());
            for (String name : f.names()) {
                JsonNode expected = index.get(name);
                assertNotNull(expected, name);
                SafeTensorInfo info = f.info(name);
                long[] expectedShape = JSON.convertValue(expected.get("shape"), long[].class);
                assertArrayEquals(expectedShape, info.shape(), name);
                Tensor t = f.read(name);
                assertArrayEquals(expectedShape, shape(t), name);
                assertEquals(info.dtype(), SafeDtype.of(t.scalar_type()), name);
            }
            Tensor raw = f.read("image_a.raw");
            assertEquals(SafeDtype.U8, f.info("image_a.raw").dtype());
            assertArrayEquals(new long[] {84, 112, 3}, shape(raw));
            long[] ids = longs(f.read("case1.input_ids"));
            assertArrayEquals(JSON.convertValue(ref.at("/cases/case1/input_ids"), long[].class), ids);
            assertEquals(SafeDtype.I32, f.info("case2.vision.cu_window_seqlens").dtype());
            assertArrayEquals(new long[] {0, 16, 32, 40, 48, 56, 60, 76, 92}, longs(f.read("case2.vision.cu_window_seqlens")));
            float[] lp = QwenFixture.floats(f.read("case1.continuation_logprobs"));
            assertEquals(ref.at("/cases/case1/continuation_logprobs/0").asDouble(), lp[0], 0.0);
        }
    }

    @Test
    void bf16IsDecodedAsTheUpperHalfOfFloat32() throws IOException {
        Path file = QwenFixture.bf16().resolve("model.safetensors");
        try (PointerScope scope = new PointerScope(); SafeTensorsFile f = SafeTensors.open(file)) {
            String name = "model.layers.0.self_attn.q_proj.weight";
            SafeTensorInfo info = f.info(name);
            assertEquals(SafeDtype.BF16, info.dtype());
            assertEquals(SafeDtype.BF16, SafeDtype.of(f.read(name).scalar_type()));
            float[] decoded = QwenFixture.floats(f.readFloat32(name));
            // independent decoding: the raw 16-bit words, shifted into the upper half of a float
            byte[] all = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ByteBuffer data = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            int base = (int) (8 + headerLength + info.begin());
            for (int i = 0; i < decoded.length; i++) {
                int bits = (data.getShort(base + 2 * i) & 0xFFFF) << 16;
                assertEquals(Float.intBitsToFloat(bits), decoded[i], 0.0f, "element " + i);
            }
            // and the BF16 file is the float32 weights rounded to nearest even
            try (SafeTensorsFile f32 = SafeTensors.open(QwenFixture.float32().resolve("model.safetensors"))) {
                assertEquals(f32.names(), f.names());
                for (String n : f.names()) {
                    Tensor rounded = f32.read(n).to(torch.ScalarType.BFloat16);
                    assertTrue(torch.equal(rounded, f.read(n)), n);
                }
            }
        }
    }

    @Test
    void singleFileAndShardedCopyHoldIdenticalTensors() throws IOException {
        try (PointerScope scope = new PointerScope();
             SafeTensorsReader single = SafeTensors.openModel(QwenFixture.float32());
             SafeTensorsReader sharded = SafeTensors.openModel(QwenFixture.sharded())) {
            assertFalse(((SafeTensorsDirectory) single).isSharded());
            assertTrue(((SafeTensorsDirectory) sharded).isSharded());
            assertEquals(2, ((SafeTensorsDirectory) sharded).files().size());
            assertEquals(single.names(), sharded.names());
            for (String name : single.names()) {
                assertEquals(single.info(name).dtype(), sharded.info(name).dtype(), name);
                assertArrayEquals(single.info(name).shape(), sharded.info(name).shape(), name);
                assertTrue(torch.equal(single.read(name), sharded.read(name)), name);
            }
            assertEquals("model-00001-of-00002.safetensors",
                    sharded.fileOf("visual.merger.mlp.0.weight").getFileName().toString());
            assertEquals("model-00002-of-00002.safetensors", sharded.fileOf("model.norm.weight").getFileName().toString());
        }
    }

    // ---- corrupt files -------------------------------------------------------------------------

    @Test
    void truncatedFileNamesTheFileAndATensor(@TempDir Path tmp) throws IOException {
        byte[] all = Files.readAllBytes(QwenFixture.float32().resolve("model.safetensors"));
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(cut));
        assertTrue(e.getMessage().contains("cut.safetensors"), e.getMessage());
        assertNotNull(e.tensor(), e.getMessage());
        assertTrue(e.getMessage().contains(e.tensor()) && e.getMessage().contains("past the end"), e.getMessage());

        Path inHeader = tmp.resolve("in-header.safetensors");
        Files.write(inHeader, Arrays.copyOf(all, 200));
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(inHeader));
        assertTrue(e.getMessage().contains("in-header.safetensors") && e.getMessage().contains("header length 9048"),
                e.getMessage());

        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(tiny));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("3 bytes"), e.getMessage());
    }

    @Test
    void headerLengthPastTheEndIsRefused(@TempDir Path tmp) throws IOException {
        Path f = writeRaw(tmp.resolve("long.safetensors"), 5000, "{}".getBytes(StandardCharsets.UTF_8));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(f));
        assertTrue(e.getMessage().contains("long.safetensors") && e.getMessage().contains("header length 5000")
                && e.getMessage().contains("past the end"), e.getMessage());
        Path huge = writeRaw(tmp.resolve("huge.safetensors"), Long.MAX_VALUE, new byte[16]);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(huge));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void badEntriesAreRefusedNamingTheTensor(@TempDir Path tmp) throws IOException {
        assertBad(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16, "w", "needs 16");
        assertBad(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8, "w", "past the end");
        assertBad(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "w", "begin <= end");
        assertBad(tmp, "{\"w\":{\"dtype\":\"X7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "w", "unknown or unsupported dtype \"X7\"");
        assertBad(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "w", "non-negative");
        assertBad(tmp, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "w", "data_offsets");
        assertBad(tmp, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "b", "overlap");
        assertBad(tmp, "{\"w\": {\"dtype\": ", 8, null, "not valid JSON");
        assertBad(tmp, "[1, 2]", 8, null, "must be a JSON object");
    }

    private static void assertBad(Path tmp, String header, int dataBytes, String tensor, String fragment) throws IOException {
        Path f = tmp.resolve("bad-" + Math.abs(header.hashCode()) + ".safetensors");
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[h.length + dataBytes];
        System.arraycopy(h, 0, body, 0, h.length);
        writeRaw(f, h.length, body);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(f), header);
        assertTrue(e.getMessage().contains(f.getFileName().toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected \"" + fragment + "\" in: " + e.getMessage());
        assertEquals(tensor, e.tensor(), e.getMessage());
    }

    private static Path writeRaw(Path f, long headerLength, byte[] rest) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(rest);
        Files.write(f, b.array());
        return f;
    }

    @Test
    void missingShardOrWeightsNameTheFile(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("sharded");
        Files.createDirectories(dir);
        for (String name : List.of("model.safetensors.index.json", "model-00001-of-00002.safetensors")) {
            Files.copy(QwenFixture.sharded().resolve(name), dir.resolve(name));
        }
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensorsDirectory.open(dir));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors") && e.getMessage().contains("missing shard"),
                e.getMessage());
        assertTrue(e.tensor() != null && !e.tensor().startsWith("visual."), "names a tensor of shard 2: " + e.tensor());

        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensorsDirectory.open(empty));
        assertTrue(e.getMessage().contains("neither model.safetensors nor model.safetensors.index.json"), e.getMessage());

        // an index that places a tensor in the wrong shard
        Path wrong = tmp.resolve("wrong");
        Files.createDirectories(wrong);
        for (String name : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            Files.copy(QwenFixture.sharded().resolve(name), wrong.resolve(name));
        }
        String index = Files.readString(QwenFixture.sharded().resolve("model.safetensors.index.json"))
                .replace("\"model.norm.weight\": \"model-00002-of-00002.safetensors\"",
                        "\"model.norm.weight\": \"model-00001-of-00002.safetensors\"");
        Files.writeString(wrong.resolve("model.safetensors.index.json"), index);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensorsDirectory.open(wrong));
        assertEquals("model.norm.weight", e.tensor(), e.getMessage());
        assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors"), e.getMessage());
    }

    // ---- writing -------------------------------------------------------------------------------

    @Test
    void writeThenReadKeepsEveryDtypeAndValue(@TempDir Path tmp) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Tensor base = torch.arange(new org.bytedeco.pytorch.Scalar(-6), new org.bytedeco.pytorch.Scalar(6))
                    .to(torch.ScalarType.Float).mul(new org.bytedeco.pytorch.Scalar(0.37)).view(3, 4);
            tensors.put("f32", base);
            tensors.put("f64", base.to(torch.ScalarType.Double));
            tensors.put("f16", base.to(torch.ScalarType.Half));
            tensors.put("bf16", base.to(torch.ScalarType.BFloat16));
            tensors.put("i64", base.mul(new org.bytedeco.pytorch.Scalar(1000)).to(torch.ScalarType.Long));
            tensors.put("i32", base.mul(new org.bytedeco.pytorch.Scalar(100)).to(torch.ScalarType.Int));
            tensors.put("i16", base.mul(new org.bytedeco.pytorch.Scalar(10)).to(torch.ScalarType.Short));
            tensors.put("i8", base.mul(new org.bytedeco.pytorch.Scalar(10)).to(torch.ScalarType.Char));
            tensors.put("u8", base.abs().mul(new org.bytedeco.pytorch.Scalar(50)).to(torch.ScalarType.Byte));
            tensors.put("bool", base.gt(new org.bytedeco.pytorch.Scalar(0)));
            tensors.put("scalar", torch.ones(new long[0]).mul(new org.bytedeco.pytorch.Scalar(2.5)));
            tensors.put("empty", torch.zeros(0, 5));
            tensors.put("strided", base.t()); // not contiguous
            Path file = tmp.resolve("all.safetensors");
            SafeTensors.write(file, tensors, Map.of("format", "pt", "note", "test"), null);
            try (SafeTensorsFile f = SafeTensors.open(file)) {
                assertEquals(tensors.keySet(), f.names().stream().collect(Collectors.toSet()));
                assertEquals(Map.of("format", "pt", "note", "test"), f.metadata());
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    Tensor back = f.read(e.getKey());
                    assertEquals(SafeDtype.of(e.getValue().scalar_type()), SafeDtype.of(back.scalar_type()), e.getKey());
                    assertTrue(torch.equal(e.getValue(), back), e.getKey());
                }
                // offsets: decreasing element size, then name; every tensor aligned to its element size
                List<SafeTensorInfo> byOffset = f.tensors().values().stream()
                        .sorted((a, b) -> Long.compare(a.begin(), b.begin()) != 0 ? Long.compare(a.begin(), b.begin())
                                : a.name().compareTo(b.name()))
                        .toList();
                for (int i = 1; i < byOffset.size(); i++) {
                    assertTrue(byOffset.get(i - 1).dtype().size() >= byOffset.get(i).dtype().size(), byOffset.toString());
                }
                for (SafeTensorInfo info : byOffset) {
                    assertEquals(0, info.begin() % info.dtype().size(), info.toString());
                }
            }
            long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8, "header padded to 8 bytes");
            try (Stream<Path> left = Files.list(tmp)) {
                assertEquals(List.of("all.safetensors"), left.map(p -> p.getFileName().toString()).toList(),
                        "no temporary file left behind");
            }
        }
    }

    @Test
    void piecewiseMappingAndWritingGiveTheSameBytes(@TempDir Path tmp) throws IOException {
        // tensors and files over 2 GB are read and written in pieces; odd piece sizes exercise the same code
        try (PointerScope scope = new PointerScope();
             SafeTensorsFile whole = SafeTensors.open(QwenFixture.float32().resolve("model.safetensors"));
             SafeTensorsFile pieces = SafeTensorsFile.open(QwenFixture.float32().resolve("model.safetensors"), 4099)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : whole.names()) {
                Tensor a = whole.read(name);
                assertTrue(torch.equal(a, pieces.read(name)), name);
                tensors.put(name, a);
            }
            Path file = tmp.resolve("pieces.safetensors");
            SafeTensorsWriter.write(file, tensors, null, null, 1021);
            assertArrayEquals(Files.readAllBytes(QwenFixture.float32().resolve("model.safetensors")), Files.readAllBytes(file),
                    "byte-identical to the file safetensors.torch.save_file wrote");
        }
    }

    @Test
    void writeCastsFloatingTensorsOnly(@TempDir Path tmp) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Tensor w = torch.randn(4, 3);
            Tensor ids = torch.arange(new org.bytedeco.pytorch.Scalar(5));
            Path file = tmp.resolve("bf16.safetensors");
            SafeTensors.write(file, Map.of("w", w, "ids", ids), null, SafeDtype.BF16);
            try (SafeTensorsFile f = SafeTensors.open(file)) {
                assertEquals(SafeDtype.BF16, f.info("w").dtype());
                assertEquals(SafeDtype.I64, f.info("ids").dtype());
                assertTrue(torch.equal(w.to(torch.ScalarType.BFloat16), f.read("w")));
                assertTrue(torch.equal(ids, f.read("ids")));
            }
        }
    }

    @Test
    void shardedWriteReproducesTheFixtureLayout(@TempDir Path tmp) throws IOException {
        try (PointerScope scope = new PointerScope();
             SafeTensorsDirectory source = SafeTensorsDirectory.open(QwenFixture.sharded())) {
            // transformers' state_dict order: the vision tower first, then the language model
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String prefix : List.of("visual.", "model.")) {
                for (String name : source.names()) {
                    if (name.startsWith(prefix)) {
                        tensors.put(name, source.read(name));
                    }
                }
            }
            Path out = tmp.resolve("out");
            List<Path> written = SafeTensors.writeModel(out, tensors, null, 640_000);
            assertEquals(List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                    "model.safetensors.index.json"), written.stream().map(p -> p.getFileName().toString()).toList());
            JsonNode expected = JSON.readTree(Files.readString(QwenFixture.sharded().resolve("model.safetensors.index.json")));
            JsonNode actual = JSON.readTree(Files.readString(out.resolve("model.safetensors.index.json")));
            assertEquals(expected, actual, "same total_size and weight_map as save_pretrained's");
            try (SafeTensorsDirectory back = SafeTensorsDirectory.open(out)) {
                for (String name : tensors.keySet()) {
                    assertTrue(torch.equal(tensors.get(name), back.read(name)), name);
                }
                for (String shard : back.files().keySet()) {
                    assertEquals(Files.size(QwenFixture.sharded().resolve(shard)), Files.size(out.resolve(shard)),
                            shard + " has the reference size");
                }
            }
            // saving again unsharded replaces the shards and the index
            SafeTensors.writeModel(out, tensors, null, 10_000_000);
            assertEquals(new TreeSet<>(Set.of("model.safetensors")), listNames(out));
            try (SafeTensorsDirectory back = SafeTensorsDirectory.open(out)) {
                assertFalse(back.isSharded());
                assertEquals(new TreeSet<>(tensors.keySet()), new TreeSet<>(back.names()));
            }
            // a tensor larger than the limit gets a shard of its own
            SafeTensors.writeModel(out, tensors, null, 100_000);
            Map<String, String> weightMap = new TreeMap<>(SafeTensorsDirectory.readWeightMap(
                    out.resolve("model.safetensors.index.json")));
            String embedShard = weightMap.get("model.embed_tokens.weight");
            assertEquals(1, weightMap.values().stream().filter(embedShard::equals).count());
            assertFalse(listNames(out).contains("model.safetensors"));
        }
    }

    private static TreeSet<String> listNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
