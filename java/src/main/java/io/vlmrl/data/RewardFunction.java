package io.vlmrl.data;

/**
 * Scores a response against the expected answer:
 * <ul>
 *   <li>accuracy 1 when the extracted answer equals the expected one after normalisation
 *       (case, whitespace, punctuation, number words to digits), else 0;</li>
 *   <li>format {@code formatWeight} when the response is {@link ResponseFormat well formed}, else 0.</li>
 * </ul>
 * Default format weight {@value #DEFAULT_FORMAT_WEIGHT}: large enough to teach the format before
 * any answer is right, small enough that a correct answer (1.0) always dominates, and below the
 * ACPO gating threshold 0.5, so a well-formatted wrong answer still counts as a failure there.
 * Never throws on malformed input: null, empty or garbage responses score 0.
 */
public final class RewardFunction {
    public static final double DEFAULT_FORMAT_WEIGHT = 0.1;

    private final double formatWeight;

    public RewardFunction() {
        this(DEFAULT_FORMAT_WEIGHT);
    }

    public RewardFunction(double formatWeight) {
        if (!(formatWeight >= 0 && formatWeight < 1)) {
            throw new IllegalArgumentException("formatWeight must be in [0, 1), got " + formatWeight);
        }
        this.formatWeight = formatWeight;
    }

    public double formatWeight() {
        return formatWeight;
    }

    public Reward score(String response, String expectedAnswer) {
        ResponseFormat.Parsed parsed = ResponseFormat.parse(response);
        String expected = AnswerNormalizer.normalize(expectedAnswer);
        boolean correct = !parsed.answer().isEmpty() && parsed.answer().equals(expected);
        double accuracy = correct ? 1.0 : 0.0;
        double format = parsed.wellFormed() ? formatWeight : 0.0;
        return new Reward(accuracy + format, accuracy, format, correct);
    }
}
