package io.vlmrl.reward;

import java.math.BigInteger;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Final-answer extraction and answer equivalence for math-style problems: the rules of the
 * {@link MathReward}, kept apart so that evaluation and data tools can reuse them.
 *
 * <h2>Extraction ({@link #extract})</h2>
 * The final answer of a response is, in this order of precedence:
 * <ol>
 *   <li>the content of the last complete {@code \boxed{...}} or {@code \fbox{...}} (braces may
 *       nest: {@code \boxed{\frac{1}{2}}}; an unclosed box, e.g. of a truncated response, is
 *       ignored);</li>
 *   <li>else the content of the last {@code <answer>...</answer>} pair (tags case-insensitive);</li>
 *   <li>else the built-in form ({@link io.vlmrl.data.ResponseFormat}): the text after the last
 *       standalone word {@code answer}, case-insensitive, with a following {@code :}, {@code =},
 *       {@code is} or markdown {@code *} skipped, up to the end of that line
 *       ({@code "red 2 blue 3 total 5 answer 5"}, {@code "Final Answer: 5"});</li>
 *   <li>else nothing.</li>
 * </ol>
 * Surrounding whitespace and one trailing period are removed.
 *
 * <h2>Equivalence ({@link #equivalent})</h2>
 * Both sides are first cleaned of presentation-only LaTeX ({@link #clean}). Then:
 * <ul>
 *   <li><b>Multiple choice</b>: when the expected answer is a single letter, the prediction is
 *       right when it names that letter: {@code B}, {@code (B)}, {@code B.}, {@code b)},
 *       {@code Option B}, {@code answer: B}, {@code (B) 42 apples} (case-insensitive).</li>
 *   <li><b>Numbers</b>, when both sides read as numbers ({@link #number}): integers, decimals,
 *       signs, comma thousands separators ({@code 1,234}; a space is not a separator), fractions
 *       {@code 3/4}, {@code \frac{3}{4}}, {@code \dfrac}, {@code \tfrac}, {@code \frac34},
 *       percentages. Two integer literals must be equal exactly; otherwise values {@code a, b}
 *       match when {@code |a - b| <= max(relTol * max(|a|, |b|), 1e-12)}.</li>
 *   <li><b>Percentages</b>: {@code p%} always means {@code p/100}, and two percentages compare
 *       {@code p} with {@code q}. Because data sets often write a percentage answer without its
 *       sign ("what percent ...? 50"), {@code p%} also matches a bare number {@code x} equal to
 *       {@code p} when {@code |x| >= 1}. So {@code 50% = 0.5 = 50 = 1/2}, but {@code 0.5%} matches
 *       {@code 0.005}, not {@code 0.5}: a bare number below 1 reads as a fraction, not as a
 *       count of percent.</li>
 *   <li><b>Equations</b>: a prediction {@code x = 5} is compared by its right-hand side when the
 *       expected answer has no {@code =}.</li>
 *   <li><b>Anything else</b> is compared as a string, case-insensitively and ignoring all
 *       whitespace except between two digits ({@code "New York" = "new  york"},
 *       {@code "x + 1" = "x+1"}, {@code "1 234" != "1234"}).</li>
 * </ul>
 * Units after a number are not removed ({@code "5 apples"} is not {@code 5}); degree marks and
 * {@code \%} are. Nothing here throws on malformed text: it just does not match.
 */
public final class MathAnswers {
    /** The default relative tolerance of number comparison: 4 significant digits. */
    public static final double DEFAULT_REL_TOL = RewardConfig.defaults().mathRelTol();
    /** Absolute floor of the tolerance, so that 0 and tiny values compare exactly up to rounding. */
    private static final double ABS_TOL = 1e-12;

    private static final String[] BOX_COMMANDS = {"\\boxed", "\\fbox"};
    private static final String[] UNWRAP_COMMANDS = {
        "\\boxed", "\\fbox", "\\textbf", "\\textit", "\\textrm", "\\text", "\\mathrm", "\\mathbf",
        "\\mbox", "\\operatorname"
    };

    private static final Pattern ANSWER_TAG = Pattern.compile("(?is)<answer>(.*?)</answer>");
    /** The word {@code answer}, not part of a longer word and not a tag name. */
    private static final Pattern ANSWER_WORD = Pattern.compile("(?i)(?<![\\p{Alnum}_</])answer(?![\\p{Alnum}_>])");
    private static final Pattern ANSWER_LEAD = Pattern.compile("(?i)^[\\s:=*]*(?:is(?![\\p{Alnum}_]))?[\\s:=*]*");

    private static final Pattern CHOICE_ONLY = Pattern.compile(
            "^(?:(?:option|choice|answer)\\s*(?:is\\s*)?[:=]?\\s*)?\\(?([a-z])\\)?[.:]?$");
    private static final Pattern CHOICE_WITH_TEXT = Pattern.compile(
            "^(?:(?:option|choice|answer)\\s*(?:is\\s*)?[:=]?\\s*)?(?:\\(([a-z])\\)|([a-z])[.):])\\s+\\S.*$");
    private static final Pattern SINGLE_LETTER = Pattern.compile("^[a-zA-Z]$");
    private static final Pattern EQUATION = Pattern.compile("^[a-zA-Z](?:_\\{?\\w+\\}?)?\\s*=\\s*(.+)$");

    private static final Pattern PLAIN = Pattern.compile("^(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?$");
    private static final Pattern THOUSANDS = Pattern.compile("^\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?$");
    private static final Pattern INTEGER = Pattern.compile("^\\d+$");
    /** {@code 10\,000}: a thin space between digit groups is LaTeX's thousands separator. */
    private static final Pattern THIN_SPACE_THOUSANDS = Pattern.compile("(?<=\\d)\\\\,(?=\\d{3}(?!\\d))");
    private static final Pattern DEGREES = Pattern.compile("\\^\\s*\\{?\\s*\\\\circ\\s*\\}?|\\\\circ|\\\\degree|°");

    private MathAnswers() {
    }

    /**
     * The final answer of a response (see the class comment for the precedence of forms).
     *
     * @param response a decoded response; null is allowed
     * @return the answer text, trimmed and without a trailing period; empty when the response has
     *         no final answer or an empty one
     */
    public static Optional<String> extract(String response) {
        if (response == null || response.isEmpty()) {
            return Optional.empty();
        }
        String boxed = lastBoxed(response);
        if (boxed != null) {
            return nonEmpty(boxed);
        }
        String tagged = null;
        Matcher tag = ANSWER_TAG.matcher(response);
        while (tag.find()) {
            tagged = tag.group(1);
        }
        if (tagged != null) {
            return nonEmpty(tagged);
        }
        Matcher word = ANSWER_WORD.matcher(response);
        int end = -1;
        while (word.find()) {
            end = word.end();
        }
        if (end < 0) {
            return Optional.empty();
        }
        String rest = response.substring(end);
        Matcher lead = ANSWER_LEAD.matcher(rest);
        if (lead.find()) {
            rest = rest.substring(lead.end());
        }
        int newline = rest.indexOf('\n');
        if (newline >= 0) {
            rest = rest.substring(0, newline);
        }
        return nonEmpty(rest.replaceAll("\\*+\\s*$", ""));
    }

    /**
     * Whether a predicted answer means the expected one (see the class comment for the rules).
     *
     * @param predicted the extracted answer of a response; null or garbage never matches
     * @param expected  the problem's answer; null never matches
     * @param relTol    relative tolerance of number comparison, {@code >= 0}
     * @throws IllegalArgumentException when {@code relTol} is negative or not a number
     */
    public static boolean equivalent(String predicted, String expected, double relTol) {
        if (!(relTol >= 0) || Double.isInfinite(relTol)) {
            throw new IllegalArgumentException("relTol must be a finite number >= 0, got " + relTol);
        }
        if (predicted == null || expected == null) {
            return false;
        }
        try {
            return matches(clean(predicted), clean(expected), relTol);
        } catch (RuntimeException e) {
            // Whatever a policy writes, a reward must not fail on it: unreadable means no match.
            return false;
        }
    }

    /**
     * The value of a written number after {@link #clean cleaning}: {@code "1,234"} is 1234,
     * {@code "\frac{3}{4}"} and {@code "3/4"} are 0.75, {@code "50%"} is 0.5, {@code "$-2.5$"}
     * is -2.5.
     *
     * @return empty when the text is not exactly one number (e.g. {@code "5 apples"},
     *         {@code "1 234"}, {@code "1/0"}) or null
     */
    public static Optional<Double> number(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            Num n = parseNumber(clean(text));
            return n == null ? Optional.empty() : Optional.of(n.percent ? n.value / 100 : n.value);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Removes what only changes how an answer looks: {@code $} and {@code \( \)} / {@code \[ \]}
     * delimiters, {@code \left} / {@code \right}, the wrappers {@code \text{}}, {@code \textbf{}},
     * {@code \mathrm{}}, {@code \boxed{}} (and similar), thin spaces ({@code \, \; \: \! ~}),
     * degree marks, {@code \dfrac} / {@code \tfrac} (become {@code \frac}), {@code \%}
     * (becomes {@code %}), {@code {,}} (becomes {@code ,}), one pair of braces around everything
     * and one trailing period; whitespace is collapsed. Case is kept.
     *
     * @return the cleaned text; "" for null
     */
    public static String clean(String text) {
        if (text == null) {
            return "";
        }
        String s = text.replace('\u2212', '-').replace('\u00a0', ' ');
        s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac");
        for (String command : UNWRAP_COMMANDS) {
            s = unwrap(s, command);
        }
        s = s.replaceAll("\\\\(?:left|right)(?![a-zA-Z])", "");
        s = DEGREES.matcher(s).replaceAll("");
        s = s.replace("\\%", "%").replace("\\$", "").replace("$", "").replace("{,}", ",");
        s = THIN_SPACE_THOUSANDS.matcher(s).replaceAll(",");
        s = s.replace("\\!", "").replaceAll("\\\\[,;: ]|~", " ");
        s = s.replaceAll("\\s+", " ").trim();
        s = stripEnclosing(s, "\\(", "\\)");
        s = stripEnclosing(s, "\\[", "\\]");
        s = stripTrailingPeriod(s);
        if (s.startsWith("{") && closingBrace(s, 0) == s.length() - 1) {
            s = s.substring(1, s.length() - 1).trim();
        }
        return s;
    }

    private static boolean matches(String predicted, String expected, double relTol) {
        if (predicted.isEmpty() || expected.isEmpty()) {
            return false;
        }
        if (SINGLE_LETTER.matcher(expected).matches()) {
            String letter = choiceLetter(predicted);
            if (letter != null) {
                return letter.equalsIgnoreCase(expected);
            }
        }
        if (!expected.contains("=")) {
            Matcher equation = EQUATION.matcher(predicted);
            if (equation.matches()) {
                predicted = equation.group(1).trim();
            }
        }
        Num p = parseNumber(predicted);
        Num e = parseNumber(expected);
        if (p != null && e != null) {
            return numbersMatch(p, e, relTol);
        }
        return squash(predicted).equals(squash(expected));
    }

    /** The letter named by a multiple-choice answer, lower case, or null. */
    private static String choiceLetter(String predicted) {
        String s = predicted.toLowerCase(Locale.ROOT).trim();
        Matcher only = CHOICE_ONLY.matcher(s);
        if (only.matches()) {
            return only.group(1);
        }
        Matcher withText = CHOICE_WITH_TEXT.matcher(s);
        if (withText.matches()) {
            return withText.group(1) != null ? withText.group(1) : withText.group(2);
        }
        return null;
    }

    private static boolean numbersMatch(Num a, Num b, double relTol) {
        if (a.percent == b.percent) {
            return close(a, b, relTol);
        }
        Num percent = a.percent ? a : b;
        Num plain = a.percent ? b : a;
        if (close(percent.value / 100, plain.value, relTol)) {
            return true;
        }
        return Math.abs(plain.value) >= 1 && close(percent, plain, relTol);
    }

    private static boolean close(Num a, Num b, double relTol) {
        if (a.exact != null && b.exact != null) {
            return a.exact.equals(b.exact);
        }
        return close(a.value, b.value, relTol);
    }

    private static boolean close(double a, double b, double relTol) {
        double tolerance = Math.max(relTol * Math.max(Math.abs(a), Math.abs(b)), ABS_TOL);
        return Math.abs(a - b) <= tolerance;
    }

    /** A parsed number: its written value (50 for "50%"), the exact integer if written as one. */
    private record Num(double value, BigInteger exact, boolean percent) {
    }

    /** Parses a cleaned text as one number, or returns null. */
    private static Num parseNumber(String text) {
        String s = text.trim();
        boolean percent = false;
        if (s.endsWith("%")) {
            percent = true;
            s = s.substring(0, s.length() - 1).trim();
        }
        s = stripParentheses(s);
        int sign = 1;
        if (s.startsWith("-") || s.startsWith("+")) {
            sign = s.charAt(0) == '-' ? -1 : 1;
            s = stripParentheses(s.substring(1).trim());
        }
        Num unsigned;
        if (s.startsWith("\\frac")) {
            unsigned = parseFrac(s.substring("\\frac".length()));
        } else if (s.indexOf('/') >= 0) {
            int slash = s.indexOf('/');
            if (s.indexOf('/', slash + 1) >= 0) {
                return null;
            }
            unsigned = ratio(parseSigned(s.substring(0, slash)), parseSigned(s.substring(slash + 1)));
        } else {
            unsigned = parseUnsigned(s);
        }
        if (unsigned == null) {
            return null;
        }
        BigInteger exact = unsigned.exact == null ? null : sign < 0 ? unsigned.exact.negate() : unsigned.exact;
        return new Num(sign * unsigned.value, exact, percent);
    }

    /** {@code \frac}'s two arguments: braced groups or single characters ({@code \frac34}). */
    private static Num parseFrac(String rest) {
        String[] args = new String[2];
        int i = 0;
        for (int a = 0; a < 2; a++) {
            while (i < rest.length() && rest.charAt(i) == ' ') {
                i++;
            }
            if (i >= rest.length()) {
                return null;
            }
            if (rest.charAt(i) == '{') {
                int close = closingBrace(rest, i);
                if (close < 0) {
                    return null;
                }
                args[a] = rest.substring(i + 1, close);
                i = close + 1;
            } else {
                args[a] = rest.substring(i, i + 1);
                i++;
            }
        }
        if (!rest.substring(i).isBlank()) {
            return null;
        }
        return ratio(parseSigned(args[0]), parseSigned(args[1]));
    }

    private static Num ratio(Num numerator, Num denominator) {
        if (numerator == null || denominator == null || denominator.value == 0) {
            return null;
        }
        double value = numerator.value / denominator.value;
        return Double.isFinite(value) ? new Num(value, null, false) : null;
    }

    /** An optionally signed decimal number (a fraction's part). */
    private static Num parseSigned(String text) {
        String s = text.trim();
        if (s.startsWith("-") || s.startsWith("+")) {
            Num n = parseUnsigned(s.substring(1).trim());
            return n == null ? null : s.charAt(0) == '-' ? new Num(-n.value, null, false) : n;
        }
        return parseUnsigned(s);
    }

    private static Num parseUnsigned(String s) {
        String digits;
        if (PLAIN.matcher(s).matches()) {
            digits = s;
        } else if (THOUSANDS.matcher(s).matches()) {
            digits = s.replace(",", "");
        } else {
            return null;
        }
        double value = Double.parseDouble(digits);
        if (!Double.isFinite(value)) {
            return null;
        }
        BigInteger exact = INTEGER.matcher(digits).matches() ? new BigInteger(digits) : null;
        return new Num(value, exact, false);
    }

    /** Removes parentheses or braces around a whole number-like text without commas. */
    private static String stripParentheses(String s) {
        String t = s;
        while (t.length() >= 2 && t.indexOf(',') < 0
                && ((t.startsWith("(") && t.endsWith(")") && t.indexOf(')') == t.length() - 1)
                    || (t.startsWith("{") && closingBrace(t, 0) == t.length() - 1))) {
            t = t.substring(1, t.length() - 1).trim();
        }
        return t;
    }

    /**
     * The string comparison key: lower case, without whitespace except between two digits (so
     * {@code "x + 1" = "x+1"} but {@code "1 234" != "1234"}, {@code "1 2" != "12"}).
     */
    private static String squash(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").replaceAll("(?<!\\d) | (?!\\d)", "");
    }

    /** Content of the last complete top-level box, or null when there is none. */
    private static String lastBoxed(String text) {
        String last = null;
        int from = 0;
        while (true) {
            int start = -1;
            String command = null;
            for (String c : BOX_COMMANDS) {
                int at = indexOfCommand(text, c, from);
                if (at >= 0 && (start < 0 || at < start)) {
                    start = at;
                    command = c;
                }
            }
            if (start < 0) {
                return last;
            }
            int open = skipSpaces(text, start + command.length());
            if (open >= text.length() || text.charAt(open) != '{') {
                from = start + command.length();
                continue;
            }
            int close = closingBrace(text, open);
            if (close < 0) {
                // Unclosed: a truncated box is no answer; a later complete box may still be.
                from = open + 1;
                continue;
            }
            last = text.substring(open + 1, close);
            from = close + 1;
        }
    }

    /**
     * Replaces every {@code command{X}} by {@code X} (balanced braces), nested ones too; leaves
     * unclosed ones. Iterative, one nesting level a pass, so deep nesting cannot overflow the stack.
     */
    private static String unwrap(String text, String command) {
        String current = text;
        while (true) {
            String next = unwrapOnce(current, command);
            if (next.equals(current)) {
                return current;
            }
            current = next;
        }
    }

    private static String unwrapOnce(String text, String command) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (true) {
            int start = indexOfCommand(text, command, from);
            if (start < 0) {
                out.append(text, from, text.length());
                return out.toString();
            }
            int open = skipSpaces(text, start + command.length());
            int close = open < text.length() && text.charAt(open) == '{' ? closingBrace(text, open) : -1;
            if (close < 0) {
                out.append(text, from, start + command.length());
                from = start + command.length();
                continue;
            }
            out.append(text, from, start).append(text, open + 1, close);
            from = close + 1;
        }
    }

    /** Index of {@code command} at or after {@code from}, not followed by a letter, or -1. */
    private static int indexOfCommand(String text, String command, int from) {
        int at = text.indexOf(command, from);
        while (at >= 0) {
            int after = at + command.length();
            if (after >= text.length() || !Character.isLetter(text.charAt(after))) {
                return at;
            }
            at = text.indexOf(command, at + 1);
        }
        return -1;
    }

    private static int skipSpaces(String text, int i) {
        int j = i;
        while (j < text.length() && Character.isWhitespace(text.charAt(j))) {
            j++;
        }
        return j;
    }

    /** Index of the brace closing the one at {@code open}, or -1 when unbalanced. */
    private static int closingBrace(String text, int open) {
        int depth = 0;
        for (int i = open; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '{' || text.charAt(i + 1) == '}')) {
                i++; // an escaped brace is text, not grouping
            } else if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return -1;
    }

    private static String stripEnclosing(String s, String open, String close) {
        if (s.startsWith(open) && s.endsWith(close) && s.length() >= open.length() + close.length()) {
            return s.substring(open.length(), s.length() - close.length()).trim();
        }
        return s;
    }

    private static String stripTrailingPeriod(String s) {
        return s.endsWith(".") && !s.endsWith("..") ? s.substring(0, s.length() - 1).trim() : s;
    }

    private static Optional<String> nonEmpty(String answer) {
        String s = stripTrailingPeriod(answer.trim());
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }
}
