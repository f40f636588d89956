package io.vlmrl.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON objects of a JSONL file, one per non-blank line, each with where it comes from
 * ({@code file:line}) for error messages. Blank lines are skipped (and counted in line numbers).
 */
public final class JsonlRecords {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One record: its JSON object and where it stands. */
    public record Line(JsonNode node, String where) {}

    private JsonlRecords() {
    }

    /**
     * Reads every record of {@code file}.
     *
     * @param what how the file is named in errors, e.g. "dataset file" or "--data"
     * @throws IllegalArgumentException naming the file (missing, unreadable, no records) or the
     *                                  file and line of a line that is not a JSON object
     */
    public static List<Line> read(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + " " + file + " does not exist or is not a file");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        List<Line> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            String where = file + ":" + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(where + ": invalid JSON: " + e.getOriginalMessage(), e);
            }
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(where + ": expected a JSON object, got " + abbreviate(line.strip()));
            }
            out.add(new Line(node, where));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(what + " " + file + " contains no records (expected one JSON object per line)");
        }
        return out;
    }

    /** At most 80 characters of {@code s}, for messages. */
    public static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
