package io.vlmrl.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.data.Problem;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MathRewardTest {
    private static final double EPS = 1e-12;
    private final MathReward reward = new MathReward(0.2, MathAnswers.DEFAULT_REL_TOL);

    private static Problem problem(String answer) {
        return new Problem("test", new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB), "what is half of one ?", answer,
                Problem.UNTYPED, 0, null);
    }

    @Test
    void rightAndFormattedGetsAccuracyPlusWeightedFormat() {
        Reward r = reward.score(problem("1/2"), "<think>one over two</think>\n<answer>\\frac{1}{2}</answer>");
        assertTrue(r.correct());
        assertEquals(1.2, r.score(), EPS);
        assertEquals(List.of("accuracy", "format"), List.copyOf(r.components().keySet()));
        assertEquals(1.0, r.components().get("accuracy"), EPS);
        assertEquals(0.2, r.components().get("format"), EPS);
    }

    @Test
    void builtinFormatCountsAsFormatted() {
        Reward r = reward.score(problem("5"), "red 2 blue 3 total 5 answer 5");
        assertEquals(new Reward(1.2, true, Map.of("accuracy", 1.0, "format", 0.2)), r);
    }

    @Test
    void rightButUnformattedGetsAccuracyOnly() {
        Reward r = reward.score(problem("0.5"), "Half of one is 1/2, so \\boxed{1/2}. Done.");
        assertTrue(r.correct());
        assertEquals(1.0, r.score(), EPS);
        assertEquals(0.0, r.components().get("format"), EPS);
    }

    @Test
    void wrongButFormattedGetsFormatOnlyAndIsNotCorrect() {
        Reward r = reward.score(problem("1/2"), "<think>one over three</think><answer>1/3</answer>");
        assertFalse(r.correct());
        assertEquals(0.2, r.score(), EPS);
        assertEquals(0.0, r.components().get("accuracy"), EPS);
        assertEquals(0.2, r.components().get("format"), EPS);
    }

    @Test
    void noAnswerScoresZero() {
        Reward r = reward.score(problem("7"), null);
        assertEquals(new Reward(0.0, false, Map.of("accuracy", 0.0, "format", 0.0)), r);
        assertEquals(0.0, reward.score(problem("7"), "").score(), EPS);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        MathReward defaults = new MathReward();
        assertEquals(0.1, defaults.formatWeight(), 0.0);
        assertEquals(1e-4, defaults.relTol(), 0.0);
        assertEquals(1.1, defaults.score(problem("3.1416"), "<think>pi</think><answer>3.14159</answer>").score(), EPS);
        assertEquals(0.1, defaults.score(problem("3.1416"), "<think>pi</think><answer>3.14</answer>").score(), EPS);
        // a looser tolerance accepts what the default rejects
        assertTrue(new MathReward(0.1, 0.01).score(problem("3.1416"), "\\boxed{3.14}").correct());
    }

    @Test
    void thinkAnswerShapeIsStrict() {
        assertTrue(MathReward.wellFormed("<think>a</think><answer>1</answer>"));
        assertTrue(MathReward.wellFormed("  <think>\nlong\nreasoning\n</think>\n\n<answer> 1 </answer>\n"));
        assertTrue(MathReward.wellFormed("<think></think><answer>1</answer>"));
        assertTrue(MathReward.wellFormed("answer 4"));
        assertFalse(MathReward.wellFormed("<answer>1</answer><think>a</think>"));
        assertFalse(MathReward.wellFormed("<think>a</think><answer> </answer>"));
        assertFalse(MathReward.wellFormed("<think>a</think> so <answer>1</answer>"));
        assertFalse(MathReward.wellFormed("<think>a</think><answer>1</answer> trailing"));
        assertFalse(MathReward.wellFormed("<think>a</think><answer>1</answer><answer>2</answer>"));
        assertFalse(MathReward.wellFormed("<think>a<think>b</think><answer>1</answer>"));
        assertFalse(MathReward.wellFormed("<think>a</think><answer>1"));
        assertFalse(MathReward.wellFormed("\\boxed{1}"));
        assertFalse(MathReward.wellFormed(null));
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.1, 1.0, 1.5, Double.NaN})
    void rejectsFormatWeightsOutsideZeroToOne(double formatWeight) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MathReward(formatWeight, 1e-4));
        assertEquals("formatWeight must be in [0, 1), got " + formatWeight, e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(doubles = {-1e-9, 0.2, Double.NaN, Double.POSITIVE_INFINITY})
    void rejectsTolerancesOutsideZeroToATenth(double relTol) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MathReward(0.1, relTol));
        assertEquals("relTol must be in [0, 0.1], got " + relTol, e.getMessage());
    }

    @Test
    void acceptsTheRangeEnds() {
        assertEquals(0.0, new MathReward(0.0, 0.0).score(problem("2"), "answer 2").components().get("format"), 0.0);
        assertEquals(0.1, new MathReward(0.5, 0.1).relTol(), 0.0);
    }
}
