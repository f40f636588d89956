package io.vlmrl.data;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * One visual question.
 *
 * @param image          the picture the question is about
 * @param question       whitespace-separated question words, e.g. {@code "how many red triangles ?"}
 * @param answer         the expected answer, already normalised by {@link AnswerNormalizer}
 * @param type           question type id ({@link QuestionType#id()} for the built-in task; free text
 *                       or {@link #UNTYPED} for user data)
 * @param difficulty     difficulty level (1 = easiest) or 0 when unknown (user data)
 * @param workedResponse a response in the {@link ResponseFormat}, used as the supervised target and
 *                       as the reference of the reward's reasoning credit: the exact derivation
 *                       ({@link BuiltinTask#problem}) or a teacher's, which may be wrong
 *                       ({@link BuiltinTask#demonstration}); null when the data set has none
 */
public record Problem(BufferedImage image, String question, String answer, String type, int difficulty,
                      String workedResponse) {
    public static final String UNTYPED = "untyped";

    public Problem {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(type, "type");
        if (difficulty < 0) {
            throw new IllegalArgumentException("difficulty must be >= 0, got " + difficulty);
        }
    }

    /** The supervised target: the worked response, or the bare answer in the response format. */
    public String targetResponse() {
        return workedResponse != null ? workedResponse : ResponseFormat.answerOnly(answer);
    }
}
