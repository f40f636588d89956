package io.vlmrl.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * User problems from a JSONL file, one JSON object per line:
 *
 * <pre>{"image": "imgs/001.png", "question": "how many red circles ?", "answer": "2", "type": "counting"}</pre>
 *
 * {@code image} is a PNG or JPEG path, absolute or relative to the JSONL file's directory;
 * {@code type} is optional ({@link Problem#UNTYPED} when absent); an optional {@code response}
 * gives a worked response for supervised training. Blank lines are skipped. Images are loaded
 * eagerly and resized to {@code imageSize x imageSize}, so every error surfaces at load time as an
 * {@link IllegalArgumentException} naming the file and line.
 */
public final class JsonlDataset implements Dataset {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final List<Problem> problems;

    private JsonlDataset(String name, List<Problem> problems) {
        this.name = name;
        this.problems = List.copyOf(problems);
    }

    public static JsonlDataset load(Path file, int imageSize) {
        if (imageSize < 1) {
            throw new IllegalArgumentException("imageSize must be >= 1, got " + imageSize);
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("dataset file " + file + " does not exist or is not a file");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read dataset file " + file + ": " + e.getMessage(), e);
        }
        Path baseDir = file.toAbsolutePath().getParent();
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!line.isBlank()) {
                problems.add(parseLine(line, file, i + 1, baseDir, imageSize));
            }
        }
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("dataset file " + file + " contains no records");
        }
        return new JsonlDataset(file.getFileName().toString(), problems);
    }

    private static Problem parseLine(String line, Path file, int lineNumber, Path baseDir, int imageSize) {
        String where = file + ":" + lineNumber;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(where + ": expected a JSON object, got " + line.strip());
        }
        String imageField = requiredText(node, "image", where);
        String question = requiredText(node, "question", where);
        String answer = requiredText(node, "answer", where);
        String type = optionalText(node, "type", where, Problem.UNTYPED);
        String response = optionalText(node, "response", where, null);
        Path imagePath = baseDir.resolve(imageField);
        BufferedImage image = readImage(imagePath, where);
        return new Problem(resize(image, imageSize), question.strip(), AnswerNormalizer.normalize(answer), type, 0, response);
    }

    private static String requiredText(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException(where + ": missing required field \"" + field + "\"");
        }
        if (!value.isValueNode() || value.asText().isBlank()) {
            throw new IllegalArgumentException(where + ": field \"" + field + "\" must be a non-empty string, got " + value);
        }
        return value.asText();
    }

    private static String optionalText(JsonNode node, String field, String where, String fallback) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        return requiredText(node, field, where);
    }

    private static BufferedImage readImage(Path path, String where) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(where + ": image file " + path + " does not exist");
        }
        try {
            BufferedImage image = ImageIO.read(path.toFile());
            if (image == null) {
                throw new IllegalArgumentException(where + ": image file " + path
                        + " is not a readable PNG or JPEG image");
            }
            return image;
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": cannot read image file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Scales to size x size RGB with bilinear interpolation (aspect ratio is not kept). */
    static BufferedImage resize(BufferedImage source, int size) {
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(source, 0, 0, size, size, null);
        } finally {
            g.dispose();
        }
        return out;
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
