package io.vlmrl.data;

import java.util.Arrays;
import java.util.List;

/**
 * The response format the policy is trained to produce:
 *
 * <pre>  REASONING answer VALUE</pre>
 *
 * whitespace-separated lower-case words: an optional short REASONING (the facts read off the
 * image), the keyword {@value #ANSWER_KEYWORD}, then the VALUE (a number in digits, yes / no, a
 * colour or a shape). Examples of the built-in task's worked responses:
 *
 * <pre>
 *   red triangles 2 answer 2
 *   blue 3 green 1 answer yes
 *   leftmost red circle answer red
 *   red 2 blue 3 total 5 answer 5
 * </pre>
 *
 * Responses are at most {@value #MAX_WORDS} words so that a tiny model generates them quickly.
 * Parsing is done on the {@link AnswerNormalizer normalised} text, so case, punctuation and
 * number words ("Answer: two.") do not matter. The answer is everything after the last
 * {@value #ANSWER_KEYWORD}.
 */
public final class ResponseFormat {
    public static final String ANSWER_KEYWORD = "answer";
    /**
     * Upper bound on the words of a well-formed response: the built-in task's worked responses use
     * at most 8 words, those of its harder family at most 24.
     */
    public static final int MAX_WORDS = 40;

    private ResponseFormat() {
    }

    /** A response with no reasoning: {@code "answer VALUE"}. */
    public static String answerOnly(String answer) {
        return ANSWER_KEYWORD + " " + AnswerNormalizer.normalize(answer);
    }

    /** A response made of the given reasoning words followed by the answer. */
    public static String withReasoning(List<String> reasoning, String answer) {
        return String.join(" ", reasoning) + " " + answerOnly(answer);
    }

    /**
     * Reads a response.
     *
     * @return the extracted answer ("" when there is none) and whether the response is well
     *         formed: exactly one answer keyword, a non-empty answer, at most {@value #MAX_WORDS} words
     */
    public static Parsed parse(String response) {
        String normalized = AnswerNormalizer.normalize(response);
        if (normalized.isEmpty()) {
            return new Parsed("", false);
        }
        List<String> words = Arrays.asList(normalized.split(" "));
        int last = words.lastIndexOf(ANSWER_KEYWORD);
        if (last < 0) {
            return new Parsed("", false);
        }
        String answer = String.join(" ", words.subList(last + 1, words.size()));
        boolean singleKeyword = words.indexOf(ANSWER_KEYWORD) == last;
        boolean wellFormed = singleKeyword && !answer.isEmpty() && words.size() <= MAX_WORDS;
        return new Parsed(answer, wellFormed);
    }

    /**
     * Share of the reference's reasoning words (those before its answer keyword) that
     * {@code response} has at the same position, in [0, 1]; 0 when the reference has no reasoning.
     */
    public static double reasoningOverlap(String response, String reference) {
        List<String> expected = reasoningWords(reference);
        if (expected.isEmpty()) {
            return 0.0;
        }
        List<String> actual = reasoningWords(response);
        int matched = 0;
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            if (expected.get(i).equals(actual.get(i))) {
                matched++;
            }
        }
        return (double) matched / expected.size();
    }

    /** The normalised words before the first answer keyword (all words when there is none). */
    private static List<String> reasoningWords(String text) {
        String normalized = AnswerNormalizer.normalize(text);
        if (normalized.isEmpty()) {
            return List.of();
        }
        List<String> words = Arrays.asList(normalized.split(" "));
        int keyword = words.indexOf(ANSWER_KEYWORD);
        return keyword < 0 ? words : words.subList(0, keyword);
    }

    /** Result of {@link #parse}: the normalised answer ("" if none) and the format verdict. */
    public record Parsed(String answer, boolean wellFormed) {
    }
}
