package io.vlmrl.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.vlmrl.qwen.FixtureTokenizer;
import io.vlmrl.qwen.TinyFixture;
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

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ChatTemplate}: the real Qwen2.5-VL template rendered by jinjava gives the fixture's prompt
 * texts exactly, and Jinja2's whitespace rules (checked against outputs of Jinja2 3.1.6 with
 * transformers' {@code trim_blocks=True, lstrip_blocks=True}) hold.
 */
class ChatTemplateTest {

    private static final JsonNode REF = TinyFixture.reference();

    @TempDir
    static Path modelDir;

    @BeforeAll
    static void writeTokenizer() throws IOException {
        FixtureTokenizer.copyModelDir(modelDir);
    }

    private static List<Map<String, Object>> userTurn(int images, String text) {
        List<Map<String, Object>> content = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            content.add(Map.of("type", "image"));
        }
        content.add(Map.of("type", "text", "text", text));
        return List.of(Map.of("role", "user", "content", content));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void qwenTemplateRendersTheFixturePromptsExactly() throws IOException {
        ChatTemplate template = ChatTemplate.fromModelDir(modelDir);
        assertTrue(template.origin().endsWith("tokenizer_config.json"), template.origin());
        Map<String, List<Map<String, Object>>> messages = Map.of(
                "case1", userTurn(1, "Describe this image."),
                "case2", userTurn(2, "Compare the two images."));
        try (HfTokenizer tokenizer = HfTokenizer.load(modelDir)) {
            String imagePad = tokenizer.tokenText(tokenizer.imagePlaceholderId());
            for (String name : List.of("case1", "case2")) {
                JsonNode c = REF.get("cases").get(name);
                int[] counts = ints(c.get("image_token_counts"));
                String rendered = template.render(messages.get(name), true);
                assertEquals(c.get("prompt_text").asText(), ChatTemplate.expandImagePads(rendered, imagePad, counts), name);

                // The same through ids: tokenize the rendered prompt, then expand the pad ids.
                int[] ids = ChatTemplate.expandImagePads(tokenizer.encode(rendered), tokenizer.imagePlaceholderId(), counts);
                int[] expected = Arrays.copyOf(ints(c.get("input_ids")), c.get("prompt_len").asInt());
                assertArrayEquals(expected, ids, name + " prompt ids");
            }
        }
    }

    @Test
    void generationPromptSystemMessageStringContentAndVisionIds() throws IOException {
        ChatTemplate template = ChatTemplate.fromModelDir(modelDir);
        String noPrompt = template.render(userTurn(0, "Hi"), false);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n", noPrompt);

        List<Map<String, Object>> chat = List.of(
                Map.of("role", "system", "content", "Be brief."),
                Map.of("role", "user", "content", "Count."),
                Map.of("role", "assistant", "content", "1 2 3"));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nCount.<|im_end|>\n"
                + "<|im_start|>assistant\n1 2 3<|im_end|>\n<|im_start|>assistant\n", template.render(chat, true));

        // add_vision_id: "Picture 1: " keeps its space before the tag (jinjava's own lstrip_blocks
        // drops it). Expected: Jinja2 3.1.6's rendering of the same template and messages.
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                + "Picture 1: <|vision_start|><|image_pad|><|vision_end|>Picture 2: <|vision_start|><|image_pad|><|vision_end|>x<|im_end|>\n",
                template.render(userTurn(2, "x"), false, Map.of("add_vision_id", true)));
    }

    @Test
    void jinja2WhitespaceRulesMatchJinja2() {
        // {template, expected}: outputs of Jinja2 3.1.6, ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).
        String[][] cases = {
            {"<ul>\n    {% for i in items %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>\n", "<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>"},
            {"a {% if true %}b{% endif %} c\n  {# note #}\nd", "a b c\nd"},
            {"x\n    {%+ if true %}y{% endif %}\nz", "x\n    yz"},
            {"x\n{% if true +%}\ny{% endif %}\n", "x\n\ny"},
            {"{% for m in items %}\n\t{{ m }}:{% if m > 1 %} big{% endif %}\n{% endfor %}", "\t1:\t2: big"},
            {"  {% raw %}\n  {{ not }} {% a %}\n  {% endraw %}\nend", "\n  {{ not }} {% a %}\nend"},
            {"line\r\n  {%- if true -%}\r\n  v  \r\n{%- endif %}\r\n\r\n", "linev"},
            {"{{ '%}' }} {% set s = '}}' %}{{ s }}\n", "%} }}"},
        };
        for (String[] c : cases) {
            String got = ChatTemplate.of(c[0], Map.of()).render(List.of(), false, Map.of("items", List.of(1, 2)));
            assertEquals(c[1], got, "template " + c[0].replace("\n", "\\n"));
        }
    }

    @Test
    void raiseExceptionFailsTheRenderWithItsMessage() {
        ChatTemplate t = ChatTemplate.of("{% if messages|length == 0 %}{{ raise_exception('need a message') }}{% endif %}ok", Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.render(List.of(), false));
        assertTrue(e.getMessage().contains("need a message"), e.getMessage());
        assertEquals("ok", t.render(List.of(Map.of("role", "user", "content", "x")), false));
    }

    @Test
    void specialTokenVariablesAndTemplateFilesTakePrecedence() throws IOException {
        Path dir = Files.createDirectories(modelDir.resolve("variants"));
        Files.copy(modelDir.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("chat_template.json"), "{\"chat_template\": \"json {{ eos_token }}|{{ pad_token }}\"}");
        assertEquals("json <|im_end|>|<|endoftext|>", ChatTemplate.fromModelDir(dir).render(List.of(), false));
        Files.writeString(dir.resolve("chat_template.jinja"), "jinja {{ additional_special_tokens[0] }}\n");
        assertEquals("jinja <|im_start|>", ChatTemplate.fromModelDir(dir).render(List.of(), false));

        Path empty = Files.createDirectories(modelDir.resolve("empty"));
        IOException missing = assertThrows(IOException.class, () -> ChatTemplate.fromModelDir(empty));
        assertTrue(missing.getMessage().contains(empty.toString()), missing.getMessage());
    }

    @Test
    void expandImagePadsChecksThePlaceholderCount() {
        assertEquals("a<p><p>b<p>c", ChatTemplate.expandImagePads("a<p>b<p>c", "<p>", new int[] {2, 1}));
        assertArrayEquals(new int[] {5, 9, 9, 9, 6, 9, 7}, ChatTemplate.expandImagePads(new int[] {5, 9, 6, 9, 7}, 9, new int[] {3, 1}));
        IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.expandImagePads("a<p>b", "<p>", new int[] {2, 1}));
        assertTrue(few.getMessage().contains("1") && few.getMessage().contains("2 images"), few.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.expandImagePads("<p><p>", "<p>", new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.expandImagePads(new int[] {9, 9}, 9, new int[] {1}));
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.expandImagePads(new int[] {9}, 9, new int[] {0}));
    }
}
