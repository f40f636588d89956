package io.vlmrl.run;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.vlmrl.data.JsonlRecords;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the JSONL input of {@code vlmrl score} and {@code vlmrl generate}: one JSON object per
 * line (blank lines skipped), each a {@link PromptRecord}:
 *
 * <pre>
 * {"images": ["imgs/a.png"], "prompt": "How many circles?", "response": "There are 3."}
 * {"images": ["imgs/a.png", "imgs/b.png"], "messages": [{"role": "user", "content": [{"type": "image"},
 *     {"type": "image"}, {"type": "text", "text": "Compare them."}]}], "response": "..."}
 * {"images": ["imgs/a.png"], "prompt_ids": [151644, 8948, ..., 151655, ...], "response_ids": [785, 13, 151645]}
 * </pre>
 *
 * <ul>
 *   <li>{@code images} (or {@code image}): one path or a list, relative to the JSONL file's folder
 *       or absolute; optional (text-only prompts);</li>
 *   <li>exactly one prompt: {@code prompt} (or {@code question}, as in training data) text,
 *       {@code messages} (a chat conversation, content a string or a list of {@code {"type": "image"}}
 *       and {@code {"type": "text", "text": ...}}), or {@code prompt_ids} (token ids with one
 *       image placeholder id per image, expanded with the images' token counts);</li>
 *   <li>for scoring: {@code response} (text; the end-of-turn token is appended) or
 *       {@code response_ids} (taken as they are).</li>
 * </ul>
 * The fields of training data ({@code answer}, {@code solution}, {@code type}) are allowed and
 * ignored, so a training file can be given to {@code generate} as it is. Every line is checked when the file is read (JSON, field types, images exist), and errors name
 * {@code file:line}; unknown fields are refused, so that a misspelt field is not silently ignored.
 */
public final class PromptRecords {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("images", "image", "prompt", "question", "messages", "prompt_ids",
            "response", "response_ids", "answer", "solution", "type");

    private PromptRecords() {
    }

    /**
     * Reads and checks every record of {@code file}.
     *
     * @param responseRequired whether each record must give a response (scoring)
     * @throws IllegalArgumentException naming {@code file:line} of the first bad record
     */
    public static List<PromptRecord> read(Path file, boolean responseRequired) {
        Path base = file.toAbsolutePath().getParent();
        List<PromptRecord> records = new ArrayList<>();
        for (JsonlRecords.Line line : JsonlRecords.read(file, "--data")) {
            records.add(parse(line.node(), line.where(), records.size(), base, responseRequired));
        }
        return records;
    }

    private static PromptRecord parse(JsonNode node, String where, int index, Path base, boolean responseRequired) {
        node.fieldNames().forEachRemaining(name -> {
            if (!FIELDS.contains(name)) {
                throw new IllegalArgumentException(where + ": unknown field \"" + name + "\"; expected images, and one of prompt, "
                        + "messages and prompt_ids, and for scoring one of response and response_ids");
            }
        });
        List<Path> images = images(node, where, base);
        String prompt = text(node, "prompt", "question", where);
        List<Map<String, Object>> messages = messages(node, where);
        int[] promptIds = ids(node, "prompt_ids", where);
        String response = text(node, "response", null, where);
        int[] responseIds = ids(node, "response_ids", where);
        if (prompt == null && messages == null && promptIds == null) {
            throw new IllegalArgumentException(where + ": missing the prompt: expected one of \"prompt\" (text), \"messages\" "
                    + "(a chat) and \"prompt_ids\" (token ids)");
        }
        if (responseRequired && response == null && responseIds == null) {
            throw new IllegalArgumentException(where + ": missing the response to score: expected \"response\" (text) or "
                    + "\"response_ids\" (token ids)");
        }
        return new PromptRecord(index, where, images, prompt, messages, promptIds, response, responseIds);
    }

    private static List<Path> images(JsonNode node, String where, Path base) {
        if (node.has("images") && node.has("image")) {
            throw new IllegalArgumentException(where + ": give \"images\" or \"image\", not both");
        }
        String field = node.has("image") ? "image" : "images";
        JsonNode value = node.get(field);
        List<Path> out = new ArrayList<>();
        if (value == null || value.isNull()) {
            return out;
        }
        List<JsonNode> items = new ArrayList<>();
        if (value.isArray()) {
            value.forEach(items::add);
        } else {
            items.add(value);
        }
        for (JsonNode item : items) {
            if (!item.isTextual() || item.asText().isBlank()) {
                throw new IllegalArgumentException(where + ": field \"" + field + "\" must be an image path or a list of paths, got "
                        + JsonlRecords.abbreviate(value.toString()));
            }
            Path path = base.resolve(item.asText());
            if (!Files.isRegularFile(path)) {
                throw new IllegalArgumentException(where + ": image file " + path + " does not exist");
            }
            out.add(path);
        }
        return out;
    }

    private static String text(JsonNode node, String field, String alias, String where) {
        if (alias != null && node.has(field) && node.has(alias)) {
            throw new IllegalArgumentException(where + ": give \"" + field + "\" or \"" + alias + "\", not both");
        }
        String name = alias != null && node.has(alias) ? alias : field;
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException(where + ": field \"" + name + "\" must be a string, got " + JsonlRecords.abbreviate(value.toString()));
        }
        return value.asText();
    }

    private static List<Map<String, Object>> messages(JsonNode node, String where) {
        JsonNode value = node.get("messages");
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isArray() || value.isEmpty()) {
            throw new IllegalArgumentException(where + ": field \"messages\" must be a non-empty list of {\"role\", \"content\"} "
                    + "objects, got " + JsonlRecords.abbreviate(value.toString()));
        }
        for (int i = 0; i < value.size(); i++) {
            JsonNode m = value.get(i);
            if (!m.isObject() || !m.path("role").isTextual() || !(m.path("content").isTextual() || m.path("content").isArray())) {
                throw new IllegalArgumentException(where + ": messages[" + i + "] must be an object with a string \"role\" and a "
                        + "\"content\" string or list, got " + JsonlRecords.abbreviate(m.toString()));
            }
        }
        return JSON.convertValue(value, new TypeReference<List<Map<String, Object>>>() { });
    }

    private static int[] ids(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isArray() || value.isEmpty()) {
            throw new IllegalArgumentException(where + ": field \"" + field + "\" must be a non-empty list of token ids, got "
                    + JsonlRecords.abbreviate(value.toString()));
        }
        int[] out = new int[value.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode id = value.get(i);
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0) {
                throw new IllegalArgumentException(where + ": " + field + "[" + i + "] must be a token id (an integer >= 0), got " + id);
            }
            out[i] = id.asInt();
        }
        return out;
    }

}
