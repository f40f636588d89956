package io.vlmrl.reward;

import io.vlmrl.data.Problem;
import io.vlmrl.data.ResponseFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The built-in {@code math} reward: accuracy of the final answer plus a small format bonus.
 *
 * <ul>
 *   <li>{@code accuracy}: 1 when the response's final answer ({@link MathAnswers#extract}) is
 *       {@link MathAnswers#equivalent equivalent} to {@link Problem#answer()}, else 0;</li>
 *   <li>{@code format}: {@code formatWeight} when the response is {@link #wellFormed well
 *       formed}, else 0.</li>
 * </ul>
 * The score is their sum and {@link Reward#correct()} is the accuracy verdict alone, so a
 * well-formatted wrong answer is still a failure for accuracy metrics and ACPO/APO. The format
 * weight stays below 1 so that a right answer always outscores a wrong one. Stateless, so
 * deterministic and thread-safe; never throws on any response text.
 */
public final class MathReward implements RewardFunction {
    /** The name {@code reward.name} selects it by. */
    public static final String NAME = "math";
    /** Largest relative tolerance accepted: beyond 10% "equivalent" stops meaning equal. */
    public static final double MAX_REL_TOL = 0.1;

    private static final String[] TAGS = {"<think>", "</think>", "<answer>", "</answer>"};

    private final double formatWeight;
    private final double relTol;

    /** A math reward with the default {@code reward.format_weight} and {@code reward.math_rel_tol}. */
    public MathReward() {
        this(RewardConfig.defaults());
    }

    /** The math reward of {@code reward.*} settings. */
    public MathReward(RewardConfig config) {
        this(config.formatWeight(), config.mathRelTol());
    }

    /**
     * @param formatWeight weight of the format component, in [0, 1)
     * @param relTol       relative tolerance of number comparison, in [0, {@value #MAX_REL_TOL}]
     * @throws IllegalArgumentException when an argument is out of range
     */
    public MathReward(double formatWeight, double relTol) {
        if (!(formatWeight >= 0 && formatWeight < 1)) {
            throw new IllegalArgumentException("formatWeight must be in [0, 1), got " + formatWeight);
        }
        if (!(relTol >= 0 && relTol <= MAX_REL_TOL)) {
            throw new IllegalArgumentException("relTol must be in [0, " + MAX_REL_TOL + "], got " + relTol);
        }
        this.formatWeight = formatWeight;
        this.relTol = relTol;
    }

    public double formatWeight() {
        return formatWeight;
    }

    public double relTol() {
        return relTol;
    }

    @Override
    public Reward score(Problem problem, String response) {
        Optional<String> answer = MathAnswers.extract(response);
        boolean correct = answer.isPresent() && MathAnswers.equivalent(answer.get(), problem.answer(), relTol);
        double accuracy = correct ? 1.0 : 0.0;
        double format = wellFormed(response) ? formatWeight : 0.0;
        Map<String, Double> components = new LinkedHashMap<>();
        components.put("accuracy", accuracy);
        components.put("format", format);
        return new Reward(accuracy + format, correct, components);
    }

    /**
     * Whether a response has one of the two answer shapes a policy is taught: a
     * {@code <think>...</think>} block followed by a non-empty {@code <answer>...</answer>} block
     * with nothing but whitespace outside them and no further tags inside (tags in lower case, as
     * the prompt template writes them), or, for a response without any of these tags, the built-in
     * {@code REASONING answer VALUE} form ({@link ResponseFormat#parse}{@code .wellFormed()}).
     *
     * @param response a decoded response; null is not well formed
     */
    public static boolean wellFormed(String response) {
        if (response == null) {
            return false;
        }
        // A tagged response is judged by the tag shape only: "<think>a</think><answer>1", cut off
        // before its closing tag, would otherwise read as the built-in "think a think answer 1".
        return hasTag(response) ? thinkThenAnswer(response) : ResponseFormat.parse(response).wellFormed();
    }

    /** The think/answer shape, checked by scanning (no regex backtracking on long responses). */
    private static boolean thinkThenAnswer(String response) {
        String s = response.strip();
        if (!s.startsWith("<think>")) {
            return false;
        }
        int thinkEnd = s.indexOf("</think>");
        if (thinkEnd < 0 || hasTag(s.substring("<think>".length(), thinkEnd))) {
            return false;
        }
        String rest = s.substring(thinkEnd + "</think>".length()).strip();
        if (!rest.startsWith("<answer>") || !rest.endsWith("</answer>")
                || rest.length() < "<answer></answer>".length()) {
            return false;
        }
        String answer = rest.substring("<answer>".length(), rest.length() - "</answer>".length());
        return !answer.isBlank() && !hasTag(answer);
    }

    private static boolean hasTag(String text) {
        for (String tag : TAGS) {
            if (text.contains(tag)) {
                return true;
            }
        }
        return false;
    }
}
