package io.vlmrl.reward;

import io.vlmrl.data.AnswerNormalizer;
import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.Problem;
import io.vlmrl.data.ResponseFormat;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The built-in task's reward ({@code reward.name=builtin-scene}), on responses in the
 * {@link ResponseFormat} {@code REASONING answer VALUE}:
 * <ul>
 *   <li>accuracy 1 when the extracted answer equals the expected one after normalisation
 *       (case, whitespace, punctuation, number words to digits), else 0;</li>
 *   <li>format {@code format_weight} when the response is well formed, else 0;</li>
 *   <li>reasoning {@code reasoning_weight} x the share of the exact derivation's reasoning words
 *       (the facts read off the image, e.g. "red 2 blue 3 total 5") that the response has at the
 *       same positions: partial credit for correct intermediate facts, a verifiable process reward.
 *       The derivation is the problem's {@code derivation} field ({@link BuiltinTask#DERIVATION_FIELD}),
 *       else its worked response.</li>
 * </ul>
 * The format weight (0.1) is large enough to teach the format before any answer is right, and
 * format + reasoning stay below 1 so that a right answer always outscores a wrong one; up to 0.4
 * a wrong answer stays at or below the ACPO gate's tau = 0.5. Never throws on malformed
 * responses: they score 0.
 */
public final class BuiltinSceneReward implements RewardFunction {
    public static final String NAME = "builtin-scene";

    private final double formatWeight;
    private final double reasoningWeight;

    /**
     * @param formatWeight    in [0, 1)
     * @param reasoningWeight >= 0 with formatWeight + reasoningWeight < 1
     */
    public BuiltinSceneReward(double formatWeight, double reasoningWeight) {
        if (!(formatWeight >= 0 && formatWeight < 1)) {
            throw new IllegalArgumentException("formatWeight: expected a number in [0, 1), got " + formatWeight);
        }
        if (!(reasoningWeight >= 0 && formatWeight + reasoningWeight < 1)) {
            throw new IllegalArgumentException("reasoningWeight: expected >= 0 with formatWeight + reasoningWeight < 1, got "
                    + reasoningWeight + " (formatWeight " + formatWeight + ")");
        }
        this.formatWeight = formatWeight;
        this.reasoningWeight = reasoningWeight;
    }

    /** The reward of {@code reward.*} settings. */
    public BuiltinSceneReward(RewardConfig config) {
        this(config.formatWeight(), config.reasoningWeight());
    }

    @Override
    public Reward score(Problem problem, String response) {
        ResponseFormat.Parsed parsed = ResponseFormat.parse(response);
        String expected = AnswerNormalizer.normalize(problem.answer());
        boolean correct = !parsed.answer().isEmpty() && parsed.answer().equals(expected);
        double accuracy = correct ? 1.0 : 0.0;
        double format = parsed.wellFormed() ? formatWeight : 0.0;
        String reference = problem.extra().getOrDefault(BuiltinTask.DERIVATION_FIELD, problem.workedResponse());
        double reasoning = reasoningWeight > 0 && reference != null
                ? reasoningWeight * ResponseFormat.reasoningOverlap(response, reference) : 0.0;
        Map<String, Double> components = new LinkedHashMap<>();
        components.put("accuracy", accuracy);
        components.put("format", format);
        components.put("reasoning", reasoning);
        return new Reward(accuracy + format + reasoning, correct, components);
    }
}
