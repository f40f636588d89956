package io.vlmrl.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class RewardFunctionTest {
    private final RewardFunction reward = new RewardFunction(0.1);

    @Test
    void correctWellFormedAnswerGetsBothParts() {
        Reward r = reward.score("red triangles 2 answer 2", "2");
        assertEquals(new Reward(1.1, 1.0, 0.1, 0.0, true), r);
    }

    @Test
    void wrongWellFormedAnswerGetsOnlyTheFormatPart() {
        Reward r = reward.score("red triangles 3 answer 3", "2");
        assertEquals(new Reward(0.1, 0.0, 0.1, 0.0, false), r);
    }

    @Test
    void reasoningCreditIsTheShareOfWorkedReasoningWordsAtTheSamePositions() {
        RewardFunction withReasoning = new RewardFunction(0.1, 0.2);
        String worked = "red 2 blue 3 total 5 answer 5";
        // 4 of the 6 reasoning words match position by position (the wrong count shifts nothing).
        Reward r = withReasoning.score("red 2 blue 1 total 3 answer 3", "5", worked);
        assertFalse(r.correct());
        assertEquals(0.2 * 4 / 6, r.reasoning(), 1e-12);
        assertEquals(0.1 + 0.2 * 4 / 6, r.total(), 1e-12);
        assertEquals(1.3, withReasoning.score(worked, "5", worked).total(), 1e-12);
        // Skipped reasoning earns nothing; no worked response or no weight: no credit.
        assertEquals(0.0, withReasoning.score("answer 5", "5", worked).reasoning());
        assertEquals(0.0, withReasoning.score(worked, "5").reasoning());
        assertEquals(0.0, reward.score(worked, "5", worked).reasoning());
        assertEquals(0.0, withReasoning.score("red 2 answer 2", "2", "answer 2").reasoning());
    }

    @Test
    void reasoningWeightMustKeepAWrongAnswerBelowARightOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RewardFunction(0.1, 0.9));
        assertTrue(e.getMessage().contains("reasoningWeight"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RewardFunction(0.1, -0.1));
    }

    @Test
    void normalisesCasePunctuationWhitespaceAndNumberWords() {
        assertTrue(reward.score("  Red   triangles: TWO.\n Answer:  Two. ", "2").correct());
        assertTrue(reward.score("answer yes", "Yes").correct());
        assertTrue(reward.score("answer 12", "twelve").correct());
        assertEquals("2 red circles", AnswerNormalizer.normalize(" Two,  RED circles! "));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"   ", "2", "the answer:", "answer", "????", "red triangles 2", "<answer>2</answer>",
        "answer answer", "\u0000\u0001 garbage \uffff"})
    void malformedResponsesScoreZero(String response) {
        assertEquals(Reward.ZERO, reward.score(response, "2"));
    }

    @Test
    void answerIsTakenAfterTheLastKeywordButRepeatedKeywordsBreakTheFormat() {
        Reward r = reward.score("answer 3 answer 2", "2");
        assertTrue(r.correct());
        assertEquals(0.0, r.format());
        assertEquals(1.0, r.total());
    }

    @Test
    void trailingWordsMakeTheAnswerWrongButKeepTheFormat() {
        Reward r = reward.score("answer 2 red", "2");
        assertFalse(r.correct());
        assertEquals(0.1, r.total(), 1e-12);
    }

    @Test
    void overlongResponseLosesTheFormatPart() {
        String rambling = "red ".repeat(ResponseFormat.MAX_WORDS) + "answer 2";
        Reward r = reward.score(rambling, "2");
        assertTrue(r.correct());
        assertEquals(0.0, r.format());
    }

    @Test
    void formatWeightIsConfigurableAndValidated() {
        assertEquals(1.25, new RewardFunction(0.25).score("answer no", "no").total(), 1e-12);
        assertEquals(1.0, new RewardFunction(0.0).score("answer no", "no").total(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new RewardFunction(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new RewardFunction(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new RewardFunction(1.0));
    }
}
