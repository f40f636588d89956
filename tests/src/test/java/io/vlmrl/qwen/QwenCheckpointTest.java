package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.hf.SafeDtype;
import io.vlmrl.hf.SafeTensors;
import io.vlmrl.hf.SafeTensorsDirectory;
import io.vlmrl.hf.SafeTensorsException;
import io.vlmrl.hf.SafeTensorsFile;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Loading the fixture's checkpoints, refusing bad ones, and saving in the hub layout. */
class QwenCheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static QwenVlModel single;

    @BeforeAll
    static void load() throws IOException {
        single = QwenCheckpoint.load(QwenFixture.float32());
    }

    @AfterAll
    static void close() {
        single.close();
    }

    @Test
    void parameterNamesAreTheHubNames() throws IOException {
        try (SafeTensorsFile file = SafeTensors.open(QwenFixture.float32().resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(file.names()), new TreeSet<>(single.namedParameters().keySet()));
        }
        assertEquals(257056, single.parameterCount());
        assertTrue(torch.equal(single.lmHeadWeight(), single.language().embedTokensWeight()), "tied head");
        assertEquals("visual.patch_embed.proj.weight", single.namedParameters().keySet().iterator().next(),
                "the vision tower comes first, as in transformers' state_dict");
    }

    @Test
    void singleShardedAndNewLayoutLoadTheSameWeights(@TempDir Path tmp) throws IOException {
        QwenVlModel sharded = QwenCheckpoint.load(QwenFixture.sharded());
        // the newer transformers layout: model.visual.*, model.language_model.*
        Path renamed = copyWith(tmp.resolve("new-layout"), tensors -> {
            Map<String, Tensor> out = new LinkedHashMap<>();
            tensors.forEach((name, t) -> out.put(name.startsWith("visual.") ? "model." + name
                    : "model.language_model." + name.substring("model.".length()), t));
            tensors.clear();
            tensors.putAll(out);
        });
        QwenVlModel newLayout = QwenCheckpoint.load(renamed);
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> a = single.namedParameters(), b = sharded.namedParameters(), c = newLayout.namedParameters();
            for (String name : a.keySet()) {
                assertTrue(torch.equal(a.get(name), b.get(name)), name);
                assertTrue(torch.equal(a.get(name), c.get(name)), name);
            }
        } finally {
            sharded.close();
            newLayout.close();
        }
    }

    /** A copy of the float32 fixture directory whose weights are changed by {@code edit}. */
    private static Path copyWith(Path dir, Consumer<Map<String, Tensor>> edit) throws IOException {
        Files.createDirectories(dir);
        Files.copy(QwenFixture.float32().resolve("config.json"), dir.resolve("config.json"));
        try (PointerScope scope = new PointerScope();
             SafeTensorsFile f = SafeTensors.open(QwenFixture.float32().resolve("model.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : f.names()) {
                tensors.put(name, f.read(name));
            }
            edit.accept(tensors);
            SafeTensors.write(dir.resolve("model.safetensors"), tensors);
        }
        return dir;
    }

    private static SafeTensorsException refused(Path dir) {
        QwenVlModel model = new QwenVlModel(single.config());
        try {
            return assertThrows(SafeTensorsException.class, () -> QwenCheckpoint.loadWeights(dir, model));
        } finally {
            model.close();
        }
    }

    @Test
    void badCheckpointsAreRefusedNamingTheTensor(@TempDir Path tmp) throws IOException {
        SafeTensorsException e = refused(copyWith(tmp.resolve("missing"), t -> t.remove("model.layers.1.mlp.up_proj.weight")));
        assertEquals("model.layers.1.mlp.up_proj.weight", e.tensor());
        assertTrue(e.getMessage().contains("missing from the checkpoint"), e.getMessage());

        e = refused(copyWith(tmp.resolve("extra"), t -> t.put("model.layers.9.mlp.up_proj.weight", torch.zeros(2, 2))));
        assertEquals("model.layers.9.mlp.up_proj.weight", e.tensor());
        assertTrue(e.getMessage().contains("is not a parameter") && e.getMessage().contains("model.safetensors"), e.getMessage());

        e = refused(copyWith(tmp.resolve("shape"), t -> t.put("model.norm.weight", torch.ones(63))));
        assertEquals("model.norm.weight", e.tensor());
        assertTrue(e.getMessage().contains("has shape [63], the model expects [64]"), e.getMessage());

        e = refused(copyWith(tmp.resolve("dtype"), t -> t.put("model.norm.weight", torch.ones(64).to(torch.ScalarType.Long))));
        assertTrue(e.getMessage().contains("has dtype I64, expected a floating-point dtype"), e.getMessage());

        e = refused(copyWith(tmp.resolve("nan"), t -> {
            Tensor w = t.get("visual.blocks.2.attn.qkv.bias").clone();
            w.narrow(0, 3, 2).fill_(new Scalar(Double.NaN));
            t.put("visual.blocks.2.attn.qkv.bias", w);
        }));
        assertEquals("visual.blocks.2.attn.qkv.bias", e.tensor());
        assertTrue(e.getMessage().contains("holds 2 NaN or infinite values"), e.getMessage());

        e = refused(copyWith(tmp.resolve("inf"), t -> t.put("model.norm.weight",
                t.get("model.norm.weight").clone().index_fill(0, torch.zeros(1).to(torch.ScalarType.Long), new Scalar(Double.POSITIVE_INFINITY)))));
        assertTrue(e.getMessage().contains("holds 1 NaN or infinite values"), e.getMessage());

        Path noShard = tmp.resolve("no-shard");
        Files.createDirectories(noShard);
        Files.copy(QwenFixture.sharded().resolve("config.json"), noShard.resolve("config.json"));
        Files.copy(QwenFixture.sharded().resolve("model.safetensors.index.json"), noShard.resolve("model.safetensors.index.json"));
        Files.copy(QwenFixture.sharded().resolve("model-00002-of-00002.safetensors"), noShard.resolve("model-00002-of-00002.safetensors"));
        e = assertThrows(SafeTensorsException.class, () -> QwenCheckpoint.load(noShard));
        assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors") && e.getMessage().contains("missing shard"),
                e.getMessage());
    }

    @Test
    void headWeightInATiedCheckpointIsIgnoredAndRequiredWhenUntied(@TempDir Path tmp) throws IOException {
        Path withHead = copyWith(tmp.resolve("with-head"), t -> t.put("lm_head.weight", t.get("model.embed_tokens.weight")));
        QwenVlModel tied = QwenCheckpoint.load(withHead);
        tied.close();

        String untiedConfig = Files.readString(QwenFixture.float32().resolve("config.json"))
                .replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
        Files.writeString(withHead.resolve("config.json"), untiedConfig);
        try (PointerScope scope = new PointerScope()) {
            // an untied model reads lm_head.weight (here: twice the embedding, so logits double)
            Path doubled = copyWith(tmp.resolve("doubled"), t -> t.put("lm_head.weight",
                    t.get("model.embed_tokens.weight").mul(new Scalar(2.0))));
            Files.writeString(doubled.resolve("config.json"), untiedConfig);
            QwenVlModel untied = QwenCheckpoint.load(doubled);
            assertTrue(untied.namedParameters().containsKey("lm_head.weight"));
            Tensor hidden = torch.randn(2, 64);
            assertTrue(torch.allclose(untied.logits(hidden), single.logits(hidden).mul(new Scalar(2.0))));
            untied.close();
            Path headless = copyWith(tmp.resolve("headless"), t -> { });
            Files.writeString(headless.resolve("config.json"), untiedConfig);
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> QwenCheckpoint.load(headless));
            assertEquals("lm_head.weight", e.tensor(), e.getMessage());
        }
    }

    @Test
    void saveThenReloadIsExactSingleAndSharded(@TempDir Path tmp) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path one = tmp.resolve("one");
            QwenCheckpoint.save(single, one, SafeDtype.F32);
            assertEquals(Set.of("config.json", "model.safetensors"), names(one));
            assertSameWeights(QwenFixture.float32(), one);
            assertArrayEquals(Files.readAllBytes(QwenFixture.float32().resolve("model.safetensors")),
                    Files.readAllBytes(one.resolve("model.safetensors")), "byte-identical to save_pretrained's file");

            Path two = tmp.resolve("two");
            QwenCheckpoint.save(single, two, SafeDtype.F32, 640_000);
            Set<String> expected = names(QwenFixture.sharded()).stream()
                    .filter(n -> n.startsWith("model")).collect(Collectors.toSet());
            expected.add("config.json");
            assertEquals(expected, names(two), "the file names of save_pretrained's sharded copy");
            assertEquals(JSON.readTree(Files.readString(QwenFixture.sharded().resolve("model.safetensors.index.json"))),
                    JSON.readTree(Files.readString(two.resolve("model.safetensors.index.json"))));
            assertSameWeights(QwenFixture.float32(), two);
            for (String shard : new String[] {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
                assertArrayEquals(Files.readAllBytes(QwenFixture.sharded().resolve(shard)), Files.readAllBytes(two.resolve(shard)),
                        shard + " byte-identical to save_pretrained's");
            }
            assertEquals(single.config().text(), QwenVlConfig.load(two).text());
            assertEquals("float32", JSON.readTree(Files.readString(two.resolve("config.json"))).get("torch_dtype").asText());

            QwenVlModel reloaded = QwenCheckpoint.load(two);
            Map<String, Tensor> a = single.namedParameters(), b = reloaded.namedParameters();
            for (String name : a.keySet()) {
                assertTrue(torch.equal(a.get(name), b.get(name)), name);
            }
            reloaded.close();
        }
    }

    @Test
    void bf16SaveRoundTripsExactly(@TempDir Path tmp) throws IOException {
        QwenVlModel model = QwenCheckpoint.load(QwenFixture.bf16());
        try (PointerScope scope = new PointerScope()) {
            Path out = tmp.resolve("bf16");
            QwenCheckpoint.save(model, out, SafeDtype.BF16);
            assertEquals("bfloat16", JSON.readTree(Files.readString(out.resolve("config.json"))).get("torch_dtype").asText());
            try (SafeTensorsFile saved = SafeTensors.open(out.resolve("model.safetensors"));
                 SafeTensorsFile original = SafeTensors.open(QwenFixture.bf16().resolve("model.safetensors"))) {
                assertEquals(original.names(), saved.names());
                for (String name : original.names()) {
                    assertEquals(SafeDtype.BF16, saved.info(name).dtype(), name);
                    assertTrue(torch.equal(original.read(name), saved.read(name)), name);
                }
            }
            assertArrayEquals(Files.readAllBytes(QwenFixture.bf16().resolve("model.safetensors")),
                    Files.readAllBytes(out.resolve("model.safetensors")), "byte-identical to the BF16 fixture file");
        } finally {
            model.close();
        }
    }

    private static void assertSameWeights(Path expectedDir, Path actualDir) throws IOException {
        try (SafeTensorsDirectory expected = SafeTensorsDirectory.open(expectedDir);
             SafeTensorsDirectory actual = SafeTensorsDirectory.open(actualDir)) {
            assertEquals(expected.names(), actual.names());
            for (String name : expected.names()) {
                assertEquals(expected.info(name).dtype(), actual.info(name).dtype(), name);
                assertTrue(torch.equal(expected.read(name), actual.read(name)), name);
            }
        }
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
