package io.vlmrl.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class MathAnswersTest {
    private static final double TOL = MathAnswers.DEFAULT_REL_TOL;

    /** (response, expected answer, whether the response is right): extraction and equivalence together. */
    static Stream<Arguments> answerForms() {
        return Stream.of(
                // \boxed, nested braces, \fbox, last box wins, unclosed box ignored
                Arguments.of("so the result is \\boxed{42}.", "42", true),
                Arguments.of("so the result is \\boxed{41}.", "42", false),
                Arguments.of("\\boxed{\\frac{1}{2}}", "1/2", true),
                Arguments.of("\\boxed{\\frac{1}{3}}", "1/2", false),
                Arguments.of("first \\boxed{3}, corrected: \\boxed{5}", "5", true),
                Arguments.of("first \\boxed{5}, corrected: \\boxed{3}", "5", false),
                Arguments.of("\\fbox{7}", "7", true),
                Arguments.of("\\boxed{\\boxed{8}}", "8", true),
                Arguments.of("\\boxed{5} then \\boxed{6", "5", true),
                Arguments.of("<answer>\\boxed{12}</answer>", "12", true),
                // <answer> tags: last pair wins, case-insensitive tags
                Arguments.of("<think>2+2</think><answer>4</answer>", "4", true),
                Arguments.of("<think>2+2</think><answer>5</answer>", "4", false),
                Arguments.of("<answer>1</answer> no wait <ANSWER> 2 </ANSWER>", "2", true),
                Arguments.of("<answer>1</answer> no wait <answer>2</answer>", "1", false),
                // the built-in form: the text after the last word "answer"
                Arguments.of("red 2 blue 3 total 5 answer 5", "5", true),
                Arguments.of("red 2 blue 3 total 5 answer 6", "5", false),
                Arguments.of("Reasoning done.\nFinal Answer: 17.", "17", true),
                Arguments.of("The answer is 9", "9", true),
                Arguments.of("**Answer:** 9", "9", true),
                Arguments.of("I will answer later", "9", false),
                // integers: signs, exactness, thousands separators
                Arguments.of("answer -3", "-3", true),
                Arguments.of("answer 3", "-3", false),
                Arguments.of("answer +3", "3", true),
                Arguments.of("\\boxed{1,234}", "1234", true),
                Arguments.of("\\boxed{1{,}234}", "1234", true),
                Arguments.of("\\boxed{1,234,567}", "1234567", true),
                Arguments.of("\\boxed{1 234}", "1234", false),
                Arguments.of("\\boxed{1000001}", "1000000", false),
                // decimals: relative tolerance 1e-4
                Arguments.of("\\boxed{3.14159}", "3.1416", true),
                Arguments.of("\\boxed{3.14}", "3.1416", false),
                Arguments.of("\\boxed{2.0}", "2", true),
                Arguments.of("\\boxed{.5}", "0.5", true),
                Arguments.of("\\boxed{0}", "0.0", true),
                Arguments.of("\\boxed{0.00001}", "0", false),
                Arguments.of("\\boxed{-2.5}", "-5/2", true),
                // one half written six ways, and a wrong one
                Arguments.of("\\boxed{0.5}", "1/2", true),
                Arguments.of("\\boxed{\\dfrac{1}{2}}", "0.5", true),
                Arguments.of("\\boxed{\\tfrac12}", "0.5", true),
                Arguments.of("\\boxed{50\\%}", "0.5", true),
                Arguments.of("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}", true),
                Arguments.of("\\boxed{-\\frac{1}{2}}", "\\frac{-1}{2}", true),
                Arguments.of("\\boxed{\\frac{1}{2}}", "-0.5", false),
                // percentages (see MathAnswers: p% = p/100; also = bare p when |p| >= 1)
                Arguments.of("\\boxed{50\\%}", "50", true),
                Arguments.of("answer 50", "50%", true),
                Arguments.of("answer 50%", "50.0%", true),
                Arguments.of("answer 40%", "50%", false),
                Arguments.of("\\boxed{0.5\\%}", "0.5", false),
                Arguments.of("\\boxed{0.5\\%}", "0.005", true),
                // LaTeX presentation: $...$, \text{}, \left( \right), degrees, thin spaces
                Arguments.of("answer: $12$", "12", true),
                Arguments.of("\\boxed{\\text{12}}", "12", true),
                Arguments.of("\\boxed{\\left(7\\right)}", "7", true),
                Arguments.of("\\boxed{90^\\circ}", "90", true),
                Arguments.of("\\boxed{90^{\\circ}}", "45", false),
                Arguments.of("\\boxed{10\\,000}", "10000", true),
                Arguments.of("\\boxed{x = 4}", "4", true),
                Arguments.of("\\boxed{5 \\text{ apples}}", "5", false),
                // multiple choice: only when the expected answer is a single letter
                Arguments.of("\\boxed{(B)}", "B", true),
                Arguments.of("answer B.", "B", true),
                Arguments.of("<answer>b)</answer>", "B", true),
                Arguments.of("<answer>Option B</answer>", "B", true),
                Arguments.of("<answer>answer: B</answer>", "B", true),
                Arguments.of("\\boxed{(B) 12 apples}", "B", true),
                Arguments.of("\\boxed{(C)}", "B", false),
                Arguments.of("<answer>option c</answer>", "B", false),
                Arguments.of("\\boxed{Bob}", "B", false),
                // strings: case- and whitespace-insensitive
                Arguments.of("<answer>New York</answer>", "new  york", true),
                Arguments.of("<answer>\\text{New York}.</answer>", "new york", true),
                Arguments.of("<answer>Boston</answer>", "new york", false),
                Arguments.of("\\boxed{x + 1}", "x+1", true),
                Arguments.of("\\boxed{x + 2}", "x+1", false),
                Arguments.of("answer yes", "Yes", true),
                // garbage: wrong, never an exception
                Arguments.of(null, "5", false),
                Arguments.of("", "5", false),
                Arguments.of("no final answer here 5", "5", false),
                Arguments.of("\\boxed{5", "5", false),
                Arguments.of("\\boxed{}", "5", false),
                Arguments.of("<answer></answer>", "5", false),
                Arguments.of("\\boxed{1/0}", "1/0", true), // no number, but the same string
                Arguments.of("\\boxed{\\frac{1}{0}}", "0", false),
                Arguments.of("\\boxed{}}}{{\\frac{{}", "5", false),
                Arguments.of("\\boxed{1e999}", "1", false));
    }

    @ParameterizedTest(name = "[{index}] {0} vs {1} -> {2}")
    @MethodSource("answerForms")
    void scoresEachAnswerForm(String response, String expected, boolean right) {
        Optional<String> answer = MathAnswers.extract(response);
        boolean verdict = answer.isPresent() && MathAnswers.equivalent(answer.get(), expected, TOL);
        assertEquals(right, verdict, () -> "response " + response + " extracted as " + answer + " vs " + expected);
    }

    @Test
    void tableHasAtLeastFiftyCasesBothRightAndWrong() {
        long right = answerForms().filter(a -> (Boolean) a.get()[2]).count();
        long total = answerForms().count();
        assertTrue(total >= 50, "cases: " + total);
        assertTrue(right >= 20 && total - right >= 20, "right " + right + " of " + total);
    }

    @Test
    void extractsByPrecedenceBoxedThenTagThenAnswerWord() {
        assertEquals(Optional.of("\\frac{1}{2}"), MathAnswers.extract("x \\boxed{\\frac{1}{2}} y"));
        assertEquals(Optional.of("3"), MathAnswers.extract("<answer>2</answer> \\boxed{3} answer 4"));
        assertEquals(Optional.of("2"), MathAnswers.extract("answer 4 <answer> 2 </answer>"));
        assertEquals(Optional.of("5"), MathAnswers.extract("red 2 blue 3 total 5 answer 5"));
        assertEquals(Optional.of("5"), MathAnswers.extract("Answer:\n5\nthat is all"));
        assertEquals(Optional.of("3.5"), MathAnswers.extract("The answer is 3.5."));
        assertEquals(Optional.of("a \\} b"), MathAnswers.extract("\\boxed{a \\} b}"));
        // "answers" is not the word, "<answer>" without a closing tag is a cut-off response
        assertEquals(Optional.empty(), MathAnswers.extract("the answers vary"));
        assertEquals(Optional.empty(), MathAnswers.extract("<think>ok</think><answer>5"));
        assertEquals(Optional.empty(), MathAnswers.extract(null));
    }

    @Test
    void readsNumbers() {
        assertEquals(Optional.of(1234.0), MathAnswers.number("1,234"));
        assertEquals(Optional.of(0.75), MathAnswers.number("\\frac{3}{4}"));
        assertEquals(Optional.of(0.75), MathAnswers.number("\\frac34"));
        assertEquals(Optional.of(0.75), MathAnswers.number("3/4"));
        assertEquals(Optional.of(0.5), MathAnswers.number("50%"));
        assertEquals(Optional.of(-2.5), MathAnswers.number("$-2.5$"));
        assertEquals(Optional.of(-0.5), MathAnswers.number("\\frac{1}{-2}"));
        assertEquals(Optional.of(-3.0), MathAnswers.number("(-3)"));
        assertEquals(Optional.of(180.0), MathAnswers.number("180^\\circ"));
        assertEquals(Optional.empty(), MathAnswers.number("5 apples"));
        assertEquals(Optional.empty(), MathAnswers.number("1 234"));
        assertEquals(Optional.empty(), MathAnswers.number("12,34"));
        assertEquals(Optional.empty(), MathAnswers.number("1/0"));
        assertEquals(Optional.empty(), MathAnswers.number("1/2/3"));
        assertEquals(Optional.empty(), MathAnswers.number(null));
    }

    @Test
    void percentRuleReadsPercentAsHundredthsAndAsABareNumberAtLeastOne() {
        assertTrue(MathAnswers.equivalent("25%", "0.25", TOL));
        assertTrue(MathAnswers.equivalent("25%", "25", TOL));
        assertTrue(MathAnswers.equivalent("25", "25\\%", TOL));
        assertTrue(MathAnswers.equivalent("1/4", "25%", TOL));
        assertTrue(MathAnswers.equivalent("12.5%", "12.5", TOL));
        assertTrue(MathAnswers.equivalent("25%", "25.0%", TOL));
        assertFalse(MathAnswers.equivalent("25%", "0.26", TOL));
        assertFalse(MathAnswers.equivalent("0.25%", "0.25", TOL));
        assertFalse(MathAnswers.equivalent("25%", "2500", TOL));
        assertFalse(MathAnswers.equivalent("25%", "25%%", TOL));
    }

    @Test
    void toleranceIsRelativeWithAnExactFloorAndIntegersAreExact() {
        assertTrue(MathAnswers.equivalent("100.009", "100", TOL));
        assertFalse(MathAnswers.equivalent("100.011", "100", TOL));
        assertTrue(MathAnswers.equivalent("100.5", "100", 0.01));
        assertTrue(MathAnswers.equivalent("1e-13", "0", TOL));
        assertFalse(MathAnswers.equivalent("1e-11", "0", TOL));
        assertFalse(MathAnswers.equivalent("123456789", "123456788", TOL));
        assertTrue(MathAnswers.equivalent("123456789.0", "123456788", TOL));
        assertTrue(MathAnswers.equivalent("-0", "0", 0));
        assertFalse(MathAnswers.equivalent("2.0000001", "2", 0));
        assertFalse(MathAnswers.equivalent("1 2", "12", TOL));
        assertTrue(MathAnswers.equivalent("(1, 2)", "(1,2)", TOL));
    }

    @Test
    void lettersAreChoicesOnlyWhenTheExpectedAnswerIsOneLetter() {
        assertTrue(MathAnswers.equivalent("(b)", "B", TOL));
        assertTrue(MathAnswers.equivalent("\\text{(D)}", "d", TOL));
        assertTrue(MathAnswers.equivalent("choice: A", "A", TOL));
        assertFalse(MathAnswers.equivalent("(B)", "(B) 12", TOL));
        assertFalse(MathAnswers.equivalent("Option B", "B C", TOL));
        assertFalse(MathAnswers.equivalent("A or B", "B", TOL));
    }

    @Test
    void invalidToleranceIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MathAnswers.equivalent("1", "1", -0.1));
        assertTrue(e.getMessage().contains("relTol") && e.getMessage().contains("-0.1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.equivalent("1", "1", Double.NaN));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", "}", "{", "\\boxed{", "\\frac{", "\\frac{1}", "\\frac", "$", "%", "-", "/",
        "\\text{", "\\left(", "((((", "1,", ",5", "..", "e5", "<answer>"})
    void garbageNeverMatchesAndNeverThrows(String garbage) {
        assertFalse(MathAnswers.equivalent(garbage, "5", TOL));
        assertFalse(MathAnswers.equivalent("5", garbage, TOL));
        assertEquals(Optional.empty(), MathAnswers.number(garbage));
        MathAnswers.extract(garbage);
    }

    @Test
    void deepNestingAndLongResponsesDoNotOverflow() {
        String deep = "\\text{".repeat(1_000) + "7" + "}".repeat(1_000);
        assertTrue(MathAnswers.equivalent(deep, "7", TOL));
        String longResponse = "<think>" + "step ".repeat(50_000) + "</think><answer>\\boxed{3}</answer>";
        assertEquals(Optional.of("3"), MathAnswers.extract(longResponse));
        assertTrue(MathReward.wellFormed(longResponse));
    }
}
