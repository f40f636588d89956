package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vlmrl.data.ImageSource;
import io.vlmrl.data.Problem;
import io.vlmrl.hf.SafeDtype;
import io.vlmrl.hf.SafeTensors;
import io.vlmrl.hf.SafeTensorsFile;
import io.vlmrl.model.SaveDtype;
import io.vlmrl.model.WeightDtype;
import io.vlmrl.policy.EncodedPrompt;
import io.vlmrl.policy.GeneratedResponses;
import io.vlmrl.policy.Policy;
import io.vlmrl.policy.SamplingConfig;
import io.vlmrl.run.Policies;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QwenPolicy} on the tiny fixture with its derived tokenizer: prompts as transformers builds
 * them, log-probs and greedy tokens as transformers computes them, shared prompts with the gradients
 * of per-row passes, bf16 weights with float32 logits, and saving in the Hugging Face layout.
 */
class QwenPolicyTest {
    private static final double ATOL = 1e-4;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path modelDir;
    private static QwenPolicy policy;
    private static JsonNode cases;

    @BeforeAll
    static void load() throws IOException {
        modelDir = FixtureTokenizer.copyModelDir(Files.createTempDirectory("qwen-policy-test").resolve("model"));
        policy = QwenPolicy.load(modelDir, false, WeightDtype.FLOAT32);
        cases = TinyFixture.reference().get("cases");
    }

    @AfterAll
    static void close() throws IOException {
        policy.close();
        deleteRecursively(modelDir.getParent());
    }

    static Problem problem(String question, String... images) {
        List<ImageSource> sources = new ArrayList<>();
        for (String image : images) {
            sources.add(ImageSource.file(TinyFixture.float32().resolve("images/" + image + ".png")));
        }
        return new Problem("fixture " + question, sources, question, "1", Problem.UNTYPED, 0, null);
    }

    /** case1 and case2 as problems: the chat template gives exactly the fixture's prompts. */
    static List<Problem> caseProblems() {
        return List.of(problem("Describe this image.", "image_a"), problem("Compare the two images.", "image_b", "image_c"));
    }

    static long[] ids(JsonNode array, int from, int to) {
        long[] out = new long[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = array.get(i).asLong();
        }
        return out;
    }

    static JsonNode fixtureCase(int i) {
        return cases.get("case" + (i + 1));
    }

    static long[] promptIds(int i) {
        JsonNode c = fixtureCase(i);
        return ids(c.get("input_ids"), 0, c.get("prompt_len").asInt());
    }

    static long[] continuation(int i) {
        JsonNode c = fixtureCase(i);
        return ids(c.get("input_ids"), c.get("prompt_len").asInt(), c.get("seq_len").asInt());
    }

    /** Right-padded [B, T] response ids. */
    static Tensor responses(int pad, long[]... rows) {
        int t = Arrays.stream(rows).mapToInt(r -> r.length).max().orElse(0);
        long[] flat = new long[rows.length * t];
        Arrays.fill(flat, pad);
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * t, rows[r].length);
        }
        return torch.tensor(flat).view(rows.length, t);
    }

    static float[] floats(Tensor t) {
        Tensor c = t.to(torch.ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    @Test
    void promptsAreTheChatTemplateWithExpandedImagePads() {
        List<Problem> problems = caseProblems();
        for (int i = 0; i < 2; i++) {
            EncodedPrompt p = policy.encodePrompt(problems.get(i));
            QwenPrompt q = QwenPolicy.qwenPrompt(p);
            assertArrayEquals(promptIds(i), q.ids(), "case" + (i + 1) + " prompt ids");
            assertEquals(promptIds(i).length, p.length());
            JsonNode grids = fixtureCase(i).get("image_grid_thw");
            assertEquals(grids.size(), q.gridThw().length);
            for (int g = 0; g < grids.size(); g++) {
                assertArrayEquals(ids(grids.get(g), 0, 3), q.gridThw()[g]);
            }
            Problem problem = problems.get(i);
            assertDoesNotThrow(() -> policy.check(problem));
        }
        // a text-only prompt is fine too
        EncodedPrompt text = policy.encodePrompt(new Problem("text", List.of(), "What is 1+1?", "2", Problem.UNTYPED, 0, null));
        assertEquals(0, QwenPolicy.qwenPrompt(text).numPatches());
    }

    @Test
    void responsesEndWithTheEndOfTurnTokenReadFromTheFiles() {
        assertEquals(1002, policy.endOfTurnId(), "<|im_end|>: the first eos id of generation_config.json");
        assertEquals(Set.of(1002, 1000), Arrays.stream(policy.stopIds()).boxed().collect(Collectors.toSet()));
        int[] ids = policy.encodeResponse("A small random test image.");
        assertArrayEquals(continuation(0), Arrays.stream(ids).asLongStream().toArray());
        assertEquals("A small random test image.", policy.decodeResponse(ids), "special tokens are skipped");
    }

    @Test
    void teacherForcedLogProbsMatchTransformersInOneBatch() {
        List<Problem> problems = caseProblems();
        List<EncodedPrompt> prompts = List.of(policy.encodePrompt(problems.get(0)), policy.encodePrompt(problems.get(1)));
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor ids = responses(policy.tokenizer().padId(), continuation(0), continuation(1));
            Tensor logits = policy.responseLogits(prompts, ids);
            assertDtype(torch.ScalarType.Float, logits);
            assertArrayEquals(new long[] {2, 7, 1024}, QwenFixture.shape(logits));
            float[] logp = floats(torch.log_softmax(logits, -1).gather(2, ids.unsqueeze(2)).squeeze(2));
            for (int i = 0; i < 2; i++) {
                JsonNode expected = fixtureCase(i).get("continuation_logprobs");
                for (int k = 0; k < expected.size(); k++) {
                    assertEquals(expected.get(k).asDouble(), logp[i * 7 + k], ATOL, "case" + (i + 1) + " token " + k);
                }
            }
        }
    }

    @Test
    void greedyGenerationMatchesTransformers() {
        List<Problem> problems = caseProblems();
        List<EncodedPrompt> prompts = List.of(policy.encodePrompt(problems.get(0)), policy.encodePrompt(problems.get(1)));
        GeneratedResponses r = policy.generate(prompts, 1, SamplingConfig.greedy(8));
        for (int i = 0; i < 2; i++) {
            long[] expected = ids(fixtureCase(i).get("greedy_tokens"), 0, 8);
            for (long token : expected) {
                for (int stop : policy.stopIds()) {
                    assertNotEquals(stop, token, "the fixture's greedy run ignores EOS: no greedy token may be a stop id");
                }
            }
            assertArrayEquals(expected, Arrays.stream(r.tokens()[i]).asLongStream().toArray(), "case" + (i + 1));
            assertTrue(r.truncated()[i]);
        }
    }

    @Test
    void sharedPromptsGiveTheGradientsOfPerRowPasses() {
        QwenPolicy trainable = policy.frozenCopy(); // a private copy; gradients turned back on below
        try {
            trainable.model().namedParameters().values().forEach(p -> p.requires_grad_(true));
            List<Problem> problems = caseProblems();
            EncodedPrompt a = trainable.encodePrompt(problems.get(0)), b = trainable.encodePrompt(problems.get(1));
            List<EncodedPrompt> rows = List.of(a, a, b, b, a);
            long[][] responses = {{32, 613, 194}, {761, 972, 613, 917, 1002}, {865, 745}, {839, 701, 701, 1012, 1002}, {13}};
            String vision = "visual.blocks.0.attn.qkv.weight", lm = "model.layers.1.mlp.up_proj.weight";
            Map<String, Tensor> params = trainable.model().namedParameters();
            try (PointerScope scope = new PointerScope()) {
                int pad = trainable.tokenizer().padId();
                Tensor ids = responses(pad, responses);
                float[] w = new float[5 * 5 * 1024];
                java.util.Random random = new java.util.Random(5);
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) random.nextGaussian();
                }
                Tensor weights = Tensor.create(w, 5, 5, 1024);
                Tensor valid = validMask(responses, 5);
                Tensor hidden = trainable.responseHidden(rows, ids);
                Tensor logits = trainable.responseLogits(rows, ids);
                logits.mul(weights).mul(valid.unsqueeze(2)).sum().backward();
                Tensor visionGrad = params.get(vision).grad().clone(), lmGrad = params.get(lm).grad().clone();
                assertTrue(visionGrad.abs().sum().item_double() > 0, "the vision tower gets a gradient");
                params.values().forEach(p -> {
                    if (p.grad().defined()) {
                        p.grad().zero_();
                    }
                });

                for (int r = 0; r < rows.size(); r++) {
                    Tensor one = responses(pad, responses[r]);
                    int t = responses[r].length;
                    Tensor rowHidden = trainable.responseHidden(List.of(rows.get(r)), one);
                    assertTrue(QwenFixture.maxAbsDiff(rowHidden.select(0, 0), hidden.select(0, r).narrow(0, 0, t)) < 1e-4,
                            "row " + r + " hidden states equal a pass of its own");
                    trainable.responseLogits(List.of(rows.get(r)), one).mul(weights.narrow(0, r, 1).narrow(1, 0, t)).sum().backward();
                }
                double scale = visionGrad.abs().max().item_double();
                assertTrue(QwenFixture.maxAbsDiff(visionGrad, params.get(vision).grad()) < 1e-4 * Math.max(1, scale),
                        "vision gradient of shared prompts = sum over per-row passes");
                assertTrue(QwenFixture.maxAbsDiff(lmGrad, params.get(lm).grad()) < 1e-4 * Math.max(1, lmGrad.abs().max().item_double()),
                        "LM gradient of shared prompts = sum over per-row passes");
            }
        } finally {
            trainable.close();
        }
    }

    /** LibTorch's ScalarType constants are not unique Java objects: compare their values. */
    static void assertDtype(torch.ScalarType expected, Tensor t) {
        assertEquals(expected.value, t.scalar_type().value, "dtype " + expected + ", got " + t.scalar_type());
    }

    private static Tensor validMask(long[][] rows, int t) {
        float[] mask = new float[rows.length * t];
        for (int r = 0; r < rows.length; r++) {
            Arrays.fill(mask, r * t, r * t + rows[r].length, 1f);
        }
        return torch.tensor(mask).view(rows.length, t);
    }

    @Test
    void freezingTheVisionLeavesItOutOfTraining() throws IOException {
        try (QwenPolicy frozen = QwenPolicy.load(modelDir, true, WeightDtype.FLOAT32)) {
            Map<String, Tensor> trainable = frozen.trainableParameters();
            Map<String, Tensor> all = frozen.model().namedParameters();
            assertFalse(trainable.keySet().stream().anyMatch(n -> n.startsWith("visual.")));
            assertTrue(trainable.containsKey("model.embed_tokens.weight"));
            assertEquals(all.keySet().stream().filter(n -> !n.startsWith("visual.")).count(), trainable.size());
            all.forEach((name, p) -> assertEquals(!name.startsWith("visual."), p.requires_grad(), name));
        }
        assertTrue(policy.trainableParameters().keySet().stream().anyMatch(n -> n.startsWith("visual.")));
    }

    @Test
    void bf16WeightsGiveFloat32LogitsAndGradients(@TempDir Path tmp) throws IOException {
        try (QwenPolicy bf16 = QwenPolicy.load(modelDir, false, WeightDtype.BFLOAT16)) {
            bf16.trainableParameters().values().forEach(p -> assertDtype(torch.ScalarType.BFloat16, p));
            List<Problem> problems = caseProblems();
            List<EncodedPrompt> prompts = List.of(bf16.encodePrompt(problems.get(0)), bf16.encodePrompt(problems.get(1)));
            try (PointerScope scope = new PointerScope()) {
                Tensor ids = responses(bf16.tokenizer().padId(), continuation(0), continuation(1));
                Tensor hidden = bf16.responseHidden(prompts, ids);
                assertDtype(torch.ScalarType.Float, hidden);
                Tensor logits = bf16.responseLogits(prompts, ids);
                assertDtype(torch.ScalarType.Float, logits);
                Tensor logp = torch.log_softmax(logits, -1).gather(2, ids.unsqueeze(2)).squeeze(2);
                float[] values = floats(logp);
                JsonNode expected = fixtureCase(0).get("continuation_logprobs");
                double worst = 0;
                for (int k = 0; k < expected.size(); k++) {
                    worst = Math.max(worst, Math.abs(expected.get(k).asDouble() - values[k]));
                }
                // bf16 compute is not a correctness test (transformers itself lands 0.2-0.4 away on logits)
                assertTrue(worst > 0 && worst < 1.0, "bf16 log-probs near the float32 ones, got max diff " + worst);
                logp.narrow(1, 0, 6).sum().backward();
                Tensor grad = bf16.model().namedParameters().get("visual.blocks.0.attn.qkv.weight").grad();
                assertDtype(torch.ScalarType.BFloat16, grad);
                assertTrue(grad.abs().sum().item_double() > 0);
            }
            GeneratedResponses r = bf16.generate(prompts, 2, SamplingConfig.sample(4, 3));
            assertEquals(4, r.size());
            // saved in the checkpoint's own dtype (the float32 fixture), whatever the weights are held in
            bf16.save(tmp.resolve("out"));
            try (SafeTensorsFile saved = SafeTensors.open(tmp.resolve("out/model.safetensors"))) {
                for (String name : saved.names()) {
                    assertEquals(SafeDtype.F32, saved.info(name).dtype(), name);
                }
            }
            assertEquals("float32", JSON.readTree(tmp.resolve("out/config.json").toFile()).get("torch_dtype").asText());
        }
    }

    @Test
    void savedDirectoriesHaveTheSourceFilesAndLoadBackIdentically(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("saved");
        policy.save(out);
        assertEquals(fileNames(modelDir), fileNames(out), "same files as the source directory");
        for (String name : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json", "preprocessor_config.json")) {
            assertArrayEquals(Files.readAllBytes(modelDir.resolve(name)), Files.readAllBytes(out.resolve(name)), name + " unchanged");
        }
        assertSameParameters(policy, out);

        Path sharded = tmp.resolve("sharded");
        try (QwenPolicy small = QwenPolicy.load(modelDir, QwenPolicy.Options.defaults().withSave(SaveDtype.AUTO, 400_000))) {
            small.save(sharded);
        }
        assertTrue(Files.isRegularFile(sharded.resolve("model.safetensors.index.json")));
        assertFalse(Files.exists(sharded.resolve("model.safetensors")));
        long shards = fileNames(sharded).stream().filter(n -> n.matches("model-0000\\d-of-0000\\d\\.safetensors")).count();
        assertTrue(shards >= 2, "shards of at most 400 kB: " + fileNames(sharded));
        assertSameParameters(policy, sharded);

        // a bf16 checkpoint stays bf16, byte for byte
        Path bf16Dir = tmp.resolve("bf16");
        Files.createDirectories(bf16Dir);
        for (String name : List.of("config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.copy(QwenFixture.bf16().resolve(name), bf16Dir.resolve(name));
        }
        FixtureTokenizer.write(bf16Dir);
        try (QwenPolicy bf16 = QwenPolicy.load(bf16Dir, false, WeightDtype.FLOAT32)) {
            bf16.save(tmp.resolve("bf16-saved"));
        }
        assertArrayEquals(Files.readAllBytes(bf16Dir.resolve("model.safetensors")),
                Files.readAllBytes(tmp.resolve("bf16-saved/model.safetensors")));
        assertEquals("bfloat16", JSON.readTree(tmp.resolve("bf16-saved/config.json").toFile()).get("torch_dtype").asText());
    }

    private static void assertSameParameters(QwenPolicy expected, Path dir) throws IOException {
        try (QwenPolicy loaded = QwenPolicy.load(dir, false, WeightDtype.FLOAT32);
             PointerScope scope = new PointerScope()) {
            Map<String, Tensor> a = expected.model().namedParameters(), b = loaded.model().namedParameters();
            assertEquals(a.keySet(), b.keySet());
            a.forEach((name, t) -> assertTrue(torch.equal(t, b.get(name)), name));
        }
    }

    static Set<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void frozenCopiesAreIndependentAndShareTheTokenizerSafely() {
        QwenPolicy copy = policy.frozenCopy();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            copy.trainableParameters().values().forEach(p -> assertFalse(p.requires_grad()));
            Tensor before = policy.model().namedParameters().get("model.norm.weight").clone();
            copy.model().namedParameters().get("model.norm.weight").add_(new Scalar(1.0));
            assertTrue(torch.equal(before, policy.model().namedParameters().get("model.norm.weight")));
        } finally {
            copy.close();
        }
        // the copy's close did not free the shared tokenizer
        assertArrayEquals(continuation(0), Arrays.stream(policy.encodeResponse("A small random test image.")).asLongStream().toArray());
    }

    @Test
    void policiesRecogniseHuggingFaceDirectoriesAndNameWhatIsWrong(@TempDir Path tmp) throws IOException {
        assertTrue(Policies.holdsModel(modelDir));
        try (Policy loaded = Policies.load(modelDir, true)) {
            assertInstanceOf(QwenPolicy.class, loaded);
            assertTrue(loaded.describe().contains("Qwen2.5-VL"), loaded.describe());
        }

        Path noTokenizer = FixtureTokenizer.copyModelDir(tmp.resolve("no-tokenizer"));
        Files.delete(noTokenizer.resolve("tokenizer.json"));
        assertTrue(Policies.holdsModel(noTokenizer));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policies.load(noTokenizer, false));
        assertEquals("expected tokenizer.json in " + noTokenizer + "; copy it from the model's hub repository", e.getMessage());

        Path llava = FixtureTokenizer.copyModelDir(tmp.resolve("llava"));
        ObjectNode config = (ObjectNode) JSON.readTree(llava.resolve("config.json").toFile());
        config.put("model_type", "llava");
        Files.writeString(llava.resolve("config.json"), config.toString());
        e = assertThrows(IllegalArgumentException.class, () -> Policies.load(llava, false));
        assertTrue(e.getMessage().contains(llava.resolve("config.json").toString()) && e.getMessage().contains("\"llava\""),
                e.getMessage());

        assertFalse(Policies.holdsModel(tmp));
    }

    @Test
    void checkNamesUnreadableImagesAndPromptsTooLongForTheModel(@TempDir Path tmp) throws IOException {
        Path broken = tmp.resolve("broken.png");
        Files.copy(TinyFixture.float32().resolve("images/image_a.png"), broken);
        ImageSource source = ImageSource.file(broken);
        Files.write(broken, new byte[] {1, 2, 3});
        Problem bad = new Problem("data.jsonl:3", List.of(source), "How many?", "2", Problem.UNTYPED, 0, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> policy.check(bad));
        assertTrue(e.getMessage().startsWith("problem data.jsonl:3: image 1 (" + broken), e.getMessage());

        Path shortModel = FixtureTokenizer.copyModelDir(tmp.resolve("short"));
        ObjectNode config = (ObjectNode) JSON.readTree(shortModel.resolve("config.json").toFile());
        config.put("max_position_embeddings", 40);
        Files.writeString(shortModel.resolve("config.json"), config.toString());
        try (QwenPolicy small = QwenPolicy.load(shortModel, false, WeightDtype.FLOAT32)) {
            assertDoesNotThrow(() -> small.check(caseProblems().get(0))); // 37 positions
            e = assertThrows(IllegalArgumentException.class, () -> small.check(caseProblems().get(1))); // 51
            assertTrue(e.getMessage().contains("its prompt takes 51 positions") && e.getMessage().contains("at most 40"), e.getMessage());
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
