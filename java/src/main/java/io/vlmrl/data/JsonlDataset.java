package io.vlmrl.data;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A user's problems from a JSONL file, one JSON object per line, with the field names of
 * {@link DataConfig} (verl's and EasyR1's convention):
 *
 * <pre>{"image": "imgs/001.png", "question": "How many red circles?", "answer": "2", "solution": "...", "type": "counting"}</pre>
 *
 * <ul>
 *   <li>{@code image} (data.image_key): one path or a list of paths to PNG or JPEG files, absolute or
 *       relative to the JSONL file's folder; images of any size (the policy resizes them);</li>
 *   <li>{@code question} (data.prompt_key) and {@code answer} (data.answer_key): non-empty strings
 *       (an answer may also be a JSON number);</li>
 *   <li>{@code solution} (data.solution_key, optional): a worked response, the supervised target;</li>
 *   <li>{@code type} (data.type_key, optional): the problem type, for per-type accuracy;</li>
 *   <li>any other field is kept as text in {@link Problem#extra()}, for rewards: verl's
 *       {@code data_source} routes a record to a reward by name ({@code reward.name=auto}).</li>
 * </ul>
 *
 * Everything is checked when the file is loaded, so a bad record is reported with its file and
 * line before any training starts: invalid JSON, a missing field, a field of the wrong type, an
 * empty answer, a missing or unreadable image, an empty file. Images are decoded when needed.
 */
public final class JsonlDataset implements Dataset {
    private final String name;
    private final List<Problem> problems;
    private final List<String> fingerprints;

    private JsonlDataset(String name, List<Problem> problems, List<String> fingerprints) {
        this.name = name;
        this.problems = List.copyOf(problems);
        this.fingerprints = List.copyOf(fingerprints);
    }

    /** Loads {@code file} with the default field names. */
    public static JsonlDataset load(Path file) {
        return load(file, DataConfig.defaults());
    }

    /**
     * Loads {@code file} with the field names of {@code fields}.
     *
     * @throws IllegalArgumentException naming the file and line of the first bad record
     */
    public static JsonlDataset load(Path file, DataConfig fields) {
        Path baseDir = file.toAbsolutePath().getParent();
        List<Problem> problems = new ArrayList<>();
        List<String> fingerprints = new ArrayList<>();
        for (JsonlRecords.Line line : JsonlRecords.read(file, "dataset file")) {
            Record r = parseLine(line.node(), line.where(), baseDir, fields);
            problems.add(r.problem);
            fingerprints.add(r.fingerprint);
        }
        return new JsonlDataset(file.getFileName().toString(), problems, fingerprints);
    }

    /**
     * How many problems of {@code other} also occur in this data set: same question, answer and
     * image contents (the file bytes). A held-out set should share none with the training set.
     */
    public int overlapWith(JsonlDataset other) {
        Set<String> mine = new HashSet<>(fingerprints);
        int n = 0;
        for (String f : other.fingerprints) {
            if (mine.contains(f)) n++;
        }
        return n;
    }

    private record Record(Problem problem, String fingerprint) {}

    private static Record parseLine(JsonNode node, String where, Path baseDir, DataConfig fields) {
        String question = requiredText(node, fields.promptKey(), where, false);
        String answer = requiredText(node, fields.answerKey(), where, true);
        String solution = optionalText(node, fields.solutionKey(), where);
        String type = optionalText(node, fields.typeKey(), where);
        List<Path> imagePaths = imagePaths(node, fields.imageKey(), where, baseDir);
        List<ImageSource> images = new ArrayList<>();
        MessageDigest digest = sha256();
        digest.update((question + "\u0000" + answer + "\u0000").getBytes(StandardCharsets.UTF_8));
        for (Path p : imagePaths) {
            try {
                images.add(ImageSource.file(p));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": field \"" + fields.imageKey() + "\": " + e.getMessage(), e);
            }
            hashFile(p, digest, where);
        }
        Map<String, String> extra = new java.util.LinkedHashMap<>();
        java.util.Set<String> known = java.util.Set.of(fields.promptKey(), fields.answerKey(), fields.imageKey(),
                fields.solutionKey(), fields.typeKey());
        node.fields().forEachRemaining(f -> {
            if (!known.contains(f.getKey()) && !f.getValue().isNull()) {
                extra.put(f.getKey(), f.getValue().isValueNode() ? f.getValue().asText() : f.getValue().toString());
            }
        });
        Problem problem = new Problem(where, images, question.strip(), answer.strip(),
                type == null ? Problem.UNTYPED : type, 0, solution, extra);
        return new Record(problem, HexFormat.of().formatHex(digest.digest()));
    }

    private static List<Path> imagePaths(JsonNode node, String field, String where, Path baseDir) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException(where + ": missing required field \"" + field + "\" (an image path or a list of paths)");
        }
        List<JsonNode> items = new ArrayList<>();
        if (value.isArray()) {
            value.forEach(items::add);
            if (items.isEmpty()) {
                throw new IllegalArgumentException(where + ": field \"" + field + "\" must list at least one image path, got []");
            }
        } else {
            items.add(value);
        }
        List<Path> paths = new ArrayList<>();
        for (JsonNode item : items) {
            if (!item.isTextual() || item.asText().isBlank()) {
                throw new IllegalArgumentException(where + ": field \"" + field
                        + "\" must be an image path or a list of paths, got " + JsonlRecords.abbreviate(value.toString()));
            }
            paths.add(baseDir.resolve(item.asText()));
        }
        return paths;
    }

    /** A required string; with {@code numberAllowed} a JSON number is taken as its text. */
    private static String requiredText(JsonNode node, String field, String where, boolean numberAllowed) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException(where + ": missing required field \"" + field + "\"");
        }
        boolean ok = value.isTextual() || (numberAllowed && value.isNumber());
        if (!ok) {
            throw new IllegalArgumentException(where + ": field \"" + field + "\" must be a string"
                    + (numberAllowed ? " or a number" : "") + ", got " + JsonlRecords.abbreviate(value.toString()));
        }
        if (value.asText().isBlank()) {
            throw new IllegalArgumentException(where + ": field \"" + field + "\" must not be empty");
        }
        return value.asText();
    }

    private static String optionalText(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        return requiredText(node, field, where, false);
    }

    private static void hashFile(Path p, MessageDigest digest, String where) {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": cannot read image file " + p + ": " + e.getMessage(), e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return problems.size();
    }

    @Override
    public Problem get(int index) {
        return problems.get(index);
    }
}
