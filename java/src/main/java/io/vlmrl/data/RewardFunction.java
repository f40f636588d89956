package io.vlmrl.data;

/**
 * Scores a response against the expected answer:
 * <ul>
 *   <li>accuracy 1 when the extracted answer equals the expected one after normalisation
 *       (case, whitespace, punctuation, number words to digits), else 0;</li>
 *   <li>format {@code formatWeight} when the response is {@link ResponseFormat well formed}, else 0;</li>
 *   <li>reasoning (off by default) {@code reasoningWeight} x the share of the worked response's
 *       reasoning words (the facts read off the image, e.g. "red 2 blue 3 total 5") that the
 *       response has at the same positions: partial credit for correct intermediate facts.</li>
 * </ul>
 * Default format weight {@value #DEFAULT_FORMAT_WEIGHT}: large enough to teach the format before
 * any answer is right, small enough that a correct answer (1.0) always dominates, and below the
 * ACPO gating threshold 0.5, so a well-formatted wrong answer still counts as a failure there.
 * Never throws on malformed input: null, empty or garbage responses score 0.
 */
public final class RewardFunction {
    public static final double DEFAULT_FORMAT_WEIGHT = 0.1;

    private final double formatWeight;
    private final double reasoningWeight;

    public RewardFunction() {
        this(DEFAULT_FORMAT_WEIGHT);
    }

    public RewardFunction(double formatWeight) {
        this(formatWeight, 0.0);
    }

    /**
     * @param formatWeight    in [0, 1)
     * @param reasoningWeight in [0, 1); with formatWeight it must stay below 1 so that a right
     *                        answer always outscores a wrong one
     */
    public RewardFunction(double formatWeight, double reasoningWeight) {
        if (!(formatWeight >= 0 && formatWeight < 1)) {
            throw new IllegalArgumentException("formatWeight must be in [0, 1), got " + formatWeight);
        }
        if (!(reasoningWeight >= 0 && formatWeight + reasoningWeight < 1)) {
            throw new IllegalArgumentException("reasoningWeight must be >= 0 with formatWeight + reasoningWeight < 1, got "
                    + reasoningWeight + " (formatWeight " + formatWeight + ")");
        }
        this.formatWeight = formatWeight;
        this.reasoningWeight = reasoningWeight;
    }

    public double formatWeight() {
        return formatWeight;
    }

    public double reasoningWeight() {
        return reasoningWeight;
    }

    /** Scores without reasoning credit (no worked response to compare with). */
    public Reward score(String response, String expectedAnswer) {
        return score(response, expectedAnswer, null);
    }

    /**
     * @param workedResponse the problem's worked response ({@link Problem#workedResponse()}), or
     *                       null; its words before the answer keyword are the facts credited
     */
    public Reward score(String response, String expectedAnswer, String workedResponse) {
        ResponseFormat.Parsed parsed = ResponseFormat.parse(response);
        String expected = AnswerNormalizer.normalize(expectedAnswer);
        boolean correct = !parsed.answer().isEmpty() && parsed.answer().equals(expected);
        double accuracy = correct ? 1.0 : 0.0;
        double format = parsed.wellFormed() ? formatWeight : 0.0;
        double reasoning = reasoningWeight > 0 && workedResponse != null
                ? reasoningWeight * ResponseFormat.reasoningOverlap(response, workedResponse) : 0.0;
        return new Reward(accuracy + format + reasoning, accuracy, format, reasoning, correct);
    }
}
