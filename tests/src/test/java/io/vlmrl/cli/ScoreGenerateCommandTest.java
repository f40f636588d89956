package io.vlmrl.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vlmrl.hf.SafeTensorsFile;
import io.vlmrl.model.Checkpoint;
import io.vlmrl.qwen.FixtureTokenizer;
import io.vlmrl.qwen.QwenFixture;
import io.vlmrl.qwen.TinyFixture;
import io.vlmrl.sft.TinyModels;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code vlmrl score} and {@code vlmrl generate} on the tiny Qwen2.5-VL fixture: every input form
 * (token ids with collapsed image pads, prompt text, chat messages) gives transformers' continuation
 * log-probs within 1e-4, the entropies of its logits, and its greedy tokens.
 */
class ScoreGenerateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double ATOL = 1e-4;
    private static final int IMAGE_PAD = 1012;

    @TempDir
    static Path dir;
    private static Path model;
    private static JsonNode cases;

    @BeforeAll
    static void setUp() throws IOException {
        model = FixtureTokenizer.copyModelDir(dir.resolve("model"));
        Files.createDirectories(dir.resolve("imgs"));
        for (String image : List.of("image_a", "image_b", "image_c")) {
            Files.copy(TinyFixture.float32().resolve("images/" + image + ".png"), dir.resolve("imgs/" + image + ".png"));
        }
        cases = TinyFixture.reference().get("cases");
    }

    /** Runs the CLI; returns (exit code, stderr). */
    static Object[] run(String... args) {
        Cli.Result r = Cli.run(args);
        return new Object[] {r.code(), r.err()};
    }

    static void assertRuns(String... args) {
        Object[] r = run(args);
        assertEquals(0, r[0], "exit code of " + String.join(" ", args) + "; stderr: " + r[1]);
    }

    static JsonNode fixtureCase(int i) {
        return cases.get("case" + (i + 1));
    }

    static ArrayNode images(int i) {
        ArrayNode out = JSON.createArrayNode();
        fixtureCase(i).get("images").forEach(name -> out.add("imgs/" + name.asText() + ".png"));
        return out;
    }

    /** The case's prompt ids with each run of image pads collapsed to one pad. */
    static ArrayNode collapsedPromptIds(int i) {
        JsonNode c = fixtureCase(i);
        ArrayNode out = JSON.createArrayNode();
        int previous = -1;
        for (int k = 0; k < c.get("prompt_len").asInt(); k++) {
            int id = c.get("input_ids").get(k).asInt();
            if (id != IMAGE_PAD || previous != IMAGE_PAD) {
                out.add(id);
            }
            previous = id;
        }
        return out;
    }

    static ArrayNode continuationIds(int i) {
        JsonNode c = fixtureCase(i);
        ArrayNode out = JSON.createArrayNode();
        for (int k = c.get("prompt_len").asInt(); k < c.get("seq_len").asInt(); k++) {
            out.add(c.get("input_ids").get(k).asInt());
        }
        return out;
    }

    /** The continuation text without its end token (score appends it). */
    static String response(int i) {
        return fixtureCase(i).get("continuation_text").asText().replace("<|im_end|>", "");
    }

    static String question(int i) {
        return i == 0 ? "Describe this image." : "Compare the two images.";
    }

    static ObjectNode idRecord(int i, boolean withResponse) {
        ObjectNode r = JSON.createObjectNode();
        r.set("images", images(i));
        r.set("prompt_ids", collapsedPromptIds(i));
        if (withResponse) {
            r.set("response_ids", continuationIds(i));
        }
        return r;
    }

    static ObjectNode promptRecord(int i) {
        ObjectNode r = JSON.createObjectNode();
        r.set("images", images(i));
        r.put("prompt", question(i));
        r.put("response", response(i));
        return r;
    }

    static ObjectNode messagesRecord(int i) {
        ObjectNode r = JSON.createObjectNode();
        r.set("images", images(i));
        ArrayNode content = JSON.createArrayNode();
        for (int k = 0; k < images(i).size(); k++) {
            content.addObject().put("type", "image");
        }
        content.addObject().put("type", "text").put("text", question(i));
        ObjectNode user = r.putArray("messages").addObject();
        user.put("role", "user");
        user.set("content", content);
        r.put("response", response(i));
        return r;
    }

    static Path writeJsonl(String name, List<? extends JsonNode> records) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (JsonNode r : records) {
            sb.append(JSON.writeValueAsString(r)).append('\n');
        }
        Path file = dir.resolve(name);
        Files.writeString(file, sb.toString());
        return file;
    }

    static List<JsonNode> readJsonl(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    /** Entropy of the fixture's reference logits at the rows predicting the continuation. */
    static double[] referenceEntropy(int i) throws IOException {
        JsonNode c = fixtureCase(i);
        int p = c.get("prompt_len").asInt(), n = c.get("seq_len").asInt() - p;
        try (PointerScope scope = new PointerScope(); SafeTensorsFile ref = QwenFixture.references(QwenFixture.float32())) {
            Tensor logits = ref.read("case" + (i + 1) + ".logits").select(0, 0).narrow(0, p - 1, n);
            Tensor logp = torch.log_softmax(logits, -1);
            float[] h = QwenFixture.floats(logp.exp().mul(logp).sum(new long[] {-1}, false,
                    new org.bytedeco.pytorch.ScalarTypeOptional()).neg());
            double[] out = new double[n];
            for (int k = 0; k < n; k++) {
                out[k] = h[k];
            }
            return out;
        }
    }

    @Test
    void scoreGivesTransformersLogProbsForEveryInputForm() throws IOException {
        List<ObjectNode> records = List.of(idRecord(0, true), idRecord(1, true), promptRecord(0), promptRecord(1),
                messagesRecord(0), messagesRecord(1));
        Path data = writeJsonl("score.jsonl", records);
        Path out = dir.resolve("scores.jsonl");
        assertRuns("score", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(), "--batch-size", "4");
        List<JsonNode> lines = readJsonl(out);
        assertEquals(records.size(), lines.size());
        for (int r = 0; r < lines.size(); r++) {
            int i = r % 2;
            JsonNode line = lines.get(r);
            assertEquals(r, line.get("index").asInt());
            assertEquals(continuationIds(i), line.get("response_ids"), "record " + r + ": the response ids (end token included)");
            JsonNode expected = fixtureCase(i).get("continuation_logprobs");
            double[] entropy = referenceEntropy(i);
            assertEquals(expected.size(), line.get("logprobs").size());
            double sum = 0;
            for (int k = 0; k < expected.size(); k++) {
                assertEquals(expected.get(k).asDouble(), line.get("logprobs").get(k).asDouble(), ATOL, "record " + r + " token " + k);
                assertEquals(entropy[k], line.get("entropy").get(k).asDouble(), ATOL, "record " + r + " entropy " + k);
                sum += line.get("logprobs").get(k).asDouble();
            }
            assertEquals(fixtureCase(i).get("continuation_logprob_sum").asDouble(), line.get("sum_logprob").asDouble(), 1e-3);
            assertEquals(sum, line.get("sum_logprob").asDouble(), 1e-4);
        }
    }

    @Test
    void greedyGenerationGivesTransformersTokens() throws IOException {
        Path data = writeJsonl("generate.jsonl", List.of(idRecord(0, false), idRecord(1, false), promptRecord(0), messagesRecord(1)));
        Path out = dir.resolve("greedy.jsonl");
        assertRuns("generate", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--greedy", "--max-new-tokens", "8", "--batch-size", "3");
        List<JsonNode> lines = readJsonl(out);
        assertEquals(4, lines.size());
        for (int r = 0; r < lines.size(); r++) {
            int i = r == 0 || r == 2 ? 0 : 1;
            JsonNode responses = lines.get(r).get("responses");
            assertEquals(1, responses.size());
            JsonNode response = responses.get(0);
            assertEquals(fixtureCase(i).get("greedy_tokens"), response.get("response_ids"), "record " + r);
            assertTrue(response.get("truncated").asBoolean(), "8 tokens without an end token");
            assertEquals(8, response.get("logprobs").size());
            assertTrue(response.get("text").isTextual());
        }
    }

    @Test
    void samplingIsReproducibleBySeed() throws IOException {
        Path data = writeJsonl("sample.jsonl", List.of(promptRecord(0), promptRecord(1)));
        String[] base = {"generate", "--model", model.toString(), "--data", data.toString(), "--max-new-tokens", "6",
                "--samples", "3", "--temperature", "1.3", "--top-k", "100"};
        List<List<JsonNode>> runs = new ArrayList<>();
        for (String[] extra : new String[][] {{"--seed", "5", "--out", dir.resolve("s5a.jsonl").toString()},
                {"--seed", "5", "--out", dir.resolve("s5b.jsonl").toString()},
                {"--seed", "6", "--out", dir.resolve("s6.jsonl").toString()}}) {
            String[] args = new String[base.length + extra.length];
            System.arraycopy(base, 0, args, 0, base.length);
            System.arraycopy(extra, 0, args, base.length, extra.length);
            assertRuns(args);
            runs.add(readJsonl(Path.of(extra[3])));
        }
        assertEquals(runs.get(0), runs.get(1), "same seed, same samples");
        assertNotEquals(runs.get(0), runs.get(2), "another seed, other samples");
        assertEquals(3, runs.get(0).get(0).get("responses").size());
    }

    @Test
    void badRecordsAreNamedByFileAndLine() throws IOException {
        ObjectNode twoPads = idRecord(0, true);
        ((ArrayNode) twoPads.get("prompt_ids")).add(IMAGE_PAD);
        Path data = writeJsonl("bad.jsonl", List.of(idRecord(1, true), twoPads));
        Object[] r = run("score", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("bad-out.jsonl").toString());
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains(data + ":2: the prompt holds 2 image placeholders"), (String) r[1]);
        assertFalse(Files.exists(dir.resolve("bad-out.jsonl")), "no partial output");

        Path noResponse = writeJsonl("noresponse.jsonl", List.of(idRecord(0, false)));
        r = run("score", "--model", model.toString(), "--data", noResponse.toString(), "--out", dir.resolve("x.jsonl").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains(noResponse + ":1: missing the response to score"), (String) r[1]);

        Files.writeString(dir.resolve("typo.jsonl"), "{\"images\": [\"imgs/image_a.png\"], \"promt\": \"hi\"}\n");
        r = run("generate", "--model", model.toString(), "--data", dir.resolve("typo.jsonl").toString(), "--out",
                dir.resolve("y.jsonl").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("typo.jsonl:1: unknown field \"promt\""), (String) r[1]);

        r = run("generate", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("z.jsonl").toString(),
                "--greedy", "--temperature", "0.5");
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("--greedy: takes no --temperature"), (String) r[1]);
    }

    @Test
    void theBuiltinModelTakesAQuestionAndOneImage() throws IOException {
        Path builtin = dir.resolve("builtin");
        var policy = TinyModels.policy(3);
        try {
            policy.save(builtin);
        } finally {
            policy.close();
        }
        assertTrue(Files.isRegularFile(builtin.resolve(Checkpoint.WEIGHTS_FILE)));
        ObjectNode record = JSON.createObjectNode();
        record.put("image", "imgs/image_a.png");
        record.put("question", "how many red circles ?");
        record.put("response", "answer 2");
        Path data = writeJsonl("builtin.jsonl", List.of(record));
        Path out = dir.resolve("builtin-scores.jsonl");
        assertRuns("score", "--model", builtin.toString(), "--data", data.toString(), "--out", out.toString());
        JsonNode line = readJsonl(out).get(0);
        assertEquals(3, line.get("logprobs").size(), "answer, 2 and the end token");
        line.get("logprobs").forEach(v -> assertTrue(v.asDouble() < 0 && Double.isFinite(v.asDouble())));

        Path generated = dir.resolve("builtin-generated.jsonl");
        assertRuns("generate", "--model", builtin.toString(), "--data", data.toString(), "--out", generated.toString(),
                "--max-new-tokens", "5", "--seed", "1");
        assertTrue(readJsonl(generated).get(0).get("responses").get(0).get("response_ids").size() <= 5);

        ObjectNode ids = idRecord(0, true);
        Path idData = writeJsonl("builtin-ids.jsonl", List.of(ids));
        Object[] r = run("score", "--model", builtin.toString(), "--data", idData.toString(), "--out", dir.resolve("b.jsonl").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains(idData + ":1: \"prompt_ids\" needs a Hugging Face model"), (String) r[1]);
    }
}
