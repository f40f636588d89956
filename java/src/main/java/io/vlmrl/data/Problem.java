package io.vlmrl.data;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One visual question.
 *
 * @param id             where the problem comes from, for messages: {@code "train.jsonl:12"},
 *                       {@code "builtin train #5"}
 * @param images         the pictures the question is about, in prompt order (the built-in task has one)
 * @param question       the question text, e.g. {@code "how many red triangles ?"}
 * @param answer         the expected answer as written by the data set (rewards normalise it)
 * @param type           problem type, for per-type accuracy ({@link QuestionType#id()} for the
 *                       built-in task, {@link #UNTYPED} when a data set has none)
 * @param difficulty     difficulty level (1 = easiest) or 0 when unknown (user data)
 * @param workedResponse a full response, the supervised target: the exact derivation
 *                       ({@link BuiltinTask#problem}), a teacher's, which may be wrong
 *                       ({@link BuiltinTask#demonstration}), or a data set's {@code solution}; null when none
 * @param extra          the record's other fields as text (e.g. verl's {@code data_source}, a reference
 *                       derivation), for rewards that need them; empty when there are none
 */
public record Problem(String id, List<ImageSource> images, String question, String answer, String type,
                      int difficulty, String workedResponse, Map<String, String> extra) {
    public static final String UNTYPED = "untyped";

    public Problem {
        Objects.requireNonNull(id, "id");
        images = List.copyOf(Objects.requireNonNull(images, "images"));
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(type, "type");
        if (difficulty < 0) {
            throw new IllegalArgumentException("difficulty must be >= 0, got " + difficulty);
        }
        extra = Map.copyOf(Objects.requireNonNull(extra, "extra"));
    }

    /** A problem with no extra fields. */
    public Problem(String id, List<ImageSource> images, String question, String answer, String type, int difficulty,
                   String workedResponse) {
        this(id, images, question, answer, type, difficulty, workedResponse, Map.of());
    }

    /** A problem with one in-memory image. */
    public Problem(String id, BufferedImage image, String question, String answer, String type, int difficulty,
                   String workedResponse) {
        this(id, List.of(ImageSource.of(image)), question, answer, type, difficulty, workedResponse, Map.of());
    }

    /**
     * The problem's only image.
     *
     * @throws IllegalStateException when it has none or several
     */
    public BufferedImage image() {
        if (images.size() != 1) {
            throw new IllegalStateException("problem " + id + " has " + images.size() + " images, expected exactly 1");
        }
        return images.get(0).load();
    }

    /** The supervised target: the worked response, or the bare answer in the built-in response format. */
    public String targetResponse() {
        return workedResponse != null ? workedResponse : ResponseFormat.answerOnly(answer);
    }
}
