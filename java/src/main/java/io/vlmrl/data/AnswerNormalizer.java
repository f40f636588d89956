package io.vlmrl.data;

import java.util.Locale;
import java.util.Map;

/**
 * Puts answers and responses into the canonical form in which they are compared: lower case,
 * punctuation removed, single spaces, number words written as digits ("Two." -> "2").
 */
public final class AnswerNormalizer {
    private static final String[] NUMBER_WORDS = {
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty"
    };
    private static final Map<String, String> WORD_TO_DIGITS = buildNumberMap();

    private AnswerNormalizer() {
    }

    /** Normalised text; null becomes the empty string. */
    public static String normalize(String text) {
        if (text == null) {
            return "";
        }
        // Punctuation becomes a word break: "2." and "answer:2" are read as "2" and "answer 2".
        String cleaned = text.toLowerCase(Locale.ROOT).replaceAll("\\p{Punct}", " ").trim();
        if (cleaned.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (String word : cleaned.split("\\s+")) {
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(WORD_TO_DIGITS.getOrDefault(word, word));
        }
        return out.toString();
    }

    private static Map<String, String> buildNumberMap() {
        Map<String, String> map = new java.util.HashMap<>();
        for (int i = 0; i < NUMBER_WORDS.length; i++) {
            map.put(NUMBER_WORDS[i], Integer.toString(i));
        }
        return Map.copyOf(map);
    }
}
