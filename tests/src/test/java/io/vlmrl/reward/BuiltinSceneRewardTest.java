package io.vlmrl.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.data.AnswerNormalizer;
import io.vlmrl.data.Problem;
import io.vlmrl.data.ResponseFormat;
import java.awt.image.BufferedImage;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class BuiltinSceneRewardTest {
    private final BuiltinSceneReward reward = new BuiltinSceneReward(0.1, 0.0);

    /** A problem whose expected answer is {@code answer} and whose worked response is {@code worked} (may be null). */
    static Problem problem(String answer, String worked) {
        return new Problem("test", new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "q ?", answer, "counting", 1, worked);
    }

    private Reward score(BuiltinSceneReward r, String response, String answer) {
        return r.score(problem(answer, null), response);
    }

    @Test
    void correctWellFormedAnswerGetsBothParts() {
        Reward r = score(reward, "red triangles 2 answer 2", "2");
        assertEquals(new Reward(1.1, true, Map.of("accuracy", 1.0, "format", 0.1, "reasoning", 0.0)), r);
    }

    @Test
    void wrongWellFormedAnswerGetsOnlyTheFormatPart() {
        Reward r = score(reward, "red triangles 3 answer 3", "2");
        assertEquals(new Reward(0.1, false, Map.of("accuracy", 0.0, "format", 0.1, "reasoning", 0.0)), r);
    }

    @Test
    void reasoningCreditIsTheShareOfWorkedReasoningWordsAtTheSamePositions() {
        BuiltinSceneReward withReasoning = new BuiltinSceneReward(0.1, 0.2);
        String worked = "red 2 blue 3 total 5 answer 5";
        // 4 of the 6 reasoning words match position by position (the wrong count shifts nothing).
        Reward r = withReasoning.score(problem("5", worked), "red 2 blue 1 total 3 answer 3");
        assertFalse(r.correct());
        assertEquals(0.2 * 4 / 6, r.components().get("reasoning"), 1e-12);
        assertEquals(0.1 + 0.2 * 4 / 6, r.score(), 1e-12);
        assertEquals(1.3, withReasoning.score(problem("5", worked), worked).score(), 1e-12);
        // Skipped reasoning earns nothing; no worked response or no weight: no credit.
        assertEquals(0.0, withReasoning.score(problem("5", worked), "answer 5").components().get("reasoning"));
        assertEquals(0.0, withReasoning.score(problem("5", null), worked).components().get("reasoning"));
        assertEquals(0.0, reward.score(problem("5", worked), worked).components().get("reasoning"));
        assertEquals(0.0, withReasoning.score(problem("2", "answer 2"), "red 2 answer 2").components().get("reasoning"));
    }

    @Test
    void reasoningWeightMustKeepAWrongAnswerBelowARightOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BuiltinSceneReward(0.1, 0.9));
        assertTrue(e.getMessage().contains("reasoningWeight"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BuiltinSceneReward(0.1, -0.1));
    }

    @Test
    void normalisesCasePunctuationWhitespaceAndNumberWords() {
        assertTrue(score(reward, "  Red   triangles: TWO.\n Answer:  Two. ", "2").correct());
        assertTrue(score(reward, "answer yes", "Yes").correct());
        assertTrue(score(reward, "answer 12", "twelve").correct());
        assertEquals("2 red circles", AnswerNormalizer.normalize(" Two,  RED circles! "));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"   ", "2", "the answer:", "answer", "????", "red triangles 2", "<answer>2</answer>",
        "answer answer", "\u0000\u0001 garbage \uffff"})
    void malformedResponsesScoreZero(String response) {
        Reward r = score(reward, response, "2");
        assertEquals(0.0, r.score());
        assertFalse(r.correct());
    }

    @Test
    void answerIsTakenAfterTheLastKeywordButRepeatedKeywordsBreakTheFormat() {
        Reward r = score(reward, "answer 3 answer 2", "2");
        assertTrue(r.correct());
        assertEquals(0.0, r.components().get("format"));
        assertEquals(1.0, r.score());
    }

    @Test
    void trailingWordsMakeTheAnswerWrongButKeepTheFormat() {
        Reward r = score(reward, "answer 2 red", "2");
        assertFalse(r.correct());
        assertEquals(0.1, r.score(), 1e-12);
    }

    @Test
    void overlongResponseLosesTheFormatPart() {
        String rambling = "red ".repeat(ResponseFormat.MAX_WORDS) + "answer 2";
        Reward r = score(reward, rambling, "2");
        assertTrue(r.correct());
        assertEquals(0.0, r.components().get("format"));
    }

    @Test
    void formatWeightIsConfigurableAndValidated() {
        assertEquals(1.25, score(new BuiltinSceneReward(0.25, 0), "answer no", "no").score(), 1e-12);
        assertEquals(1.0, score(new BuiltinSceneReward(0.0, 0), "answer no", "no").score(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new BuiltinSceneReward(-0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> new BuiltinSceneReward(Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> new BuiltinSceneReward(1.0, 0));
    }
}
