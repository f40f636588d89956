package io.vlmrl.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face chat template: renders a conversation to the model's prompt text the way
 * transformers' {@code apply_chat_template(..., tokenize=False)} does, with the Jinja engine
 * jinjava.
 *
 * <p>transformers renders with Jinja2's {@code trim_blocks=True, lstrip_blocks=True} and the default
 * {@code keep_trailing_newline=False}. jinjava's own {@code lstrip_blocks} also strips spaces before
 * a tag in the middle of a line (Qwen2.5-VL's {@code "Picture 1: "} would lose its space), so this
 * class applies Jinja2's whitespace rules to the template source itself ({@link #jinja2Whitespace})
 * and runs jinjava with both options off: newlines normalised to {@code \n}, one trailing newline
 * dropped, the spaces and tabs between a line start and a {@code {%} or {@code {#} tag removed
 * (unless written {@code {%+}), and the newline right after a {@code %}} or {@code #}} removed
 * (unless written {@code +%}}).
 *
 * <p>Variables, as transformers passes them: {@code messages}, {@code add_generation_prompt}, the
 * tokenizer's special tokens ({@code bos_token}, {@code eos_token}, {@code pad_token},
 * {@code unk_token}, ..., {@code additional_special_tokens}; those {@code tokenizer_config.json}
 * sets) and any extra variables of the call (e.g. {@code add_vision_id}, {@code tools}). Functions
 * {@code raise_exception(message)} (fails the render with that message) and
 * {@code strftime_now(format)} are defined.
 *
 * <p>A message is a map with {@code "role"} and {@code "content"}: a string, or a list of maps such
 * as {@code {"type": "image"}} and {@code {"type": "text", "text": "..."}}. Qwen2.5-VL's template
 * writes each image as {@code <|vision_start|><|image_pad|><|vision_end|>};
 * {@link #expandImagePads(String, String, int[])} then repeats each image's {@code <|image_pad|>} to
 * its number of LLM tokens, as the Qwen2.5-VL processor does.
 */
public final class ChatTemplate {

    public static final String JINJA_FILE = "chat_template.jinja";
    public static final String JSON_FILE = "chat_template.json";
    public static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
    /** Special-token keys of {@code tokenizer_config.json} that transformers passes to the template. */
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of(
            "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private final String source;
    private final String origin;
    private final String prepared;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String origin, Map<String, Object> specialTokens) {
        this.source = source;
        this.origin = origin;
        this.prepared = jinja2Whitespace(source);
        this.specialTokens = Map.copyOf(specialTokens);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withFailOnUnknownTokens(false)
                .build());
        try {
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getMethod("raiseException", String.class)));
            jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplate.class.getMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("template function missing from ChatTemplate", e);
        }
    }

    /**
     * A template from its source text.
     *
     * @param template the Jinja source
     * @param specialTokens template variables such as {@code eos_token}; may be empty
     */
    public static ChatTemplate of(String template, Map<String, ?> specialTokens) {
        if (template == null || template.isEmpty()) {
            throw new IllegalArgumentException("chat template must be a non-empty string");
        }
        return new ChatTemplate(template, "a string", new HashMap<>(specialTokens));
    }

    /**
     * The chat template of a Hugging Face model directory: {@value #JINJA_FILE}, else
     * {@value #JSON_FILE}'s {@code chat_template}, else {@value #TOKENIZER_CONFIG_FILE}'s
     * {@code chat_template} (a string, or a list of {@code {name, template}} of which
     * {@code "default"} is taken). Special-token variables come from {@value #TOKENIZER_CONFIG_FILE}.
     */
    public static ChatTemplate fromModelDir(Path dir) throws IOException {
        Path tokConfigFile = dir.resolve(TOKENIZER_CONFIG_FILE);
        JsonNode tokConfig = Files.isRegularFile(tokConfigFile) ? readJson(tokConfigFile) : null;
        Map<String, Object> tokens = new HashMap<>();
        if (tokConfig != null) {
            for (String key : SPECIAL_TOKEN_KEYS) {
                String value = tokenString(tokConfig.get(key));
                if (value != null) {
                    tokens.put(key, value);
                }
            }
            JsonNode additional = tokConfig.get("additional_special_tokens");
            if (additional != null && additional.isArray()) {
                List<String> list = new ArrayList<>();
                for (JsonNode t : additional) {
                    String value = tokenString(t);
                    if (value != null) {
                        list.add(value);
                    }
                }
                tokens.put("additional_special_tokens", list);
            }
        }
        Path jinjaFile = dir.resolve(JINJA_FILE);
        if (Files.isRegularFile(jinjaFile)) {
            return new ChatTemplate(Files.readString(jinjaFile), jinjaFile.toString(), tokens);
        }
        Path jsonFile = dir.resolve(JSON_FILE);
        if (Files.isRegularFile(jsonFile)) {
            JsonNode t = readJson(jsonFile).get("chat_template");
            if (t == null || !t.isTextual()) {
                throw new IOException(jsonFile + " must hold a string \"chat_template\", got " + t);
            }
            return new ChatTemplate(t.asText(), jsonFile.toString(), tokens);
        }
        if (tokConfig != null && tokConfig.hasNonNull("chat_template")) {
            JsonNode t = tokConfig.get("chat_template");
            if (t.isTextual()) {
                return new ChatTemplate(t.asText(), tokConfigFile.toString(), tokens);
            }
            if (t.isArray()) {
                List<String> names = new ArrayList<>();
                for (JsonNode named : t) {
                    names.add(named.path("name").asText());
                    if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                        return new ChatTemplate(named.get("template").asText(), tokConfigFile + " (default)", tokens);
                    }
                }
                throw new IOException(tokConfigFile + ": chat_template lists templates " + names + " but none named \"default\"");
            }
            throw new IOException(tokConfigFile + ": chat_template must be a string or a list, got " + t.getNodeType());
        }
        throw new IOException("no chat template in " + dir + ": expected " + JINJA_FILE + ", " + JSON_FILE
                + " or a chat_template in " + TOKENIZER_CONFIG_FILE);
    }

    /** {@link #render(List, boolean, Map)} without extra variables. */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders {@code messages}.
     *
     * @param addGenerationPrompt append the assistant turn opening ({@code <|im_start|>assistant\n})
     * @param extraVariables further template variables, e.g. {@code add_vision_id}
     * @throws IllegalArgumentException if the template fails (a {@code raise_exception} call or an
     *     error jinjava reports)
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Map<String, Object> context = new HashMap<>(specialTokens);
        context.putAll(extraVariables);
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = jinjava.renderForResult(prepared, context);
        List<String> problems = new ArrayList<>();
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() != TemplateError.ErrorType.WARNING) {
                Throwable cause = error.getException();
                while (cause != null && !(cause instanceof TemplateRaisedException) && cause.getCause() != cause) {
                    cause = cause.getCause();
                }
                problems.add(cause instanceof TemplateRaisedException
                        ? "raise_exception: " + cause.getMessage()
                        : "line " + error.getLineno() + ": " + error.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("chat template from " + origin + " failed: " + String.join("; ", problems));
        }
        return result.getOutput();
    }

    /** The template source, as read. */
    public String template() {
        return source;
    }

    /** Where the template came from (a file path, or "a string"). */
    public String origin() {
        return origin;
    }

    /**
     * Replaces the {@code k}-th occurrence of {@code imagePadToken} in {@code text} by
     * {@code tokensPerImage[k]} copies of it, as the Qwen2.5-VL processor does before tokenizing.
     *
     * @throws IllegalArgumentException if the text holds a different number of placeholders than
     *     there are images, or a count is below 1
     */
    public static String expandImagePads(String text, String imagePadToken, int[] tokensPerImage) {
        if (imagePadToken == null || imagePadToken.isEmpty()) {
            throw new IllegalArgumentException("imagePadToken must be a non-empty string");
        }
        StringBuilder out = new StringBuilder(text.length());
        int from = 0;
        int k = 0;
        int at;
        while ((at = text.indexOf(imagePadToken, from)) >= 0) {
            if (k >= tokensPerImage.length) {
                throw new IllegalArgumentException("text holds more than " + tokensPerImage.length + " \"" + imagePadToken
                        + "\" placeholders (one per image)");
            }
            out.append(text, from, at);
            out.append(imagePadToken.repeat(checkCount(tokensPerImage, k)));
            k++;
            from = at + imagePadToken.length();
        }
        out.append(text, from, text.length());
        if (k != tokensPerImage.length) {
            throw new IllegalArgumentException("text holds " + k + " \"" + imagePadToken + "\" placeholders but " + tokensPerImage.length
                    + " images were given");
        }
        return out.toString();
    }

    /** {@link #expandImagePads(String, String, int[])} on token ids: each {@code imagePadId} in turn. */
    public static int[] expandImagePads(int[] ids, int imagePadId, int[] tokensPerImage) {
        int placeholders = 0;
        long total = ids.length;
        for (int id : ids) {
            if (id == imagePadId) {
                if (placeholders < tokensPerImage.length) {
                    total += checkCount(tokensPerImage, placeholders) - 1;
                }
                placeholders++;
            }
        }
        if (placeholders != tokensPerImage.length) {
            throw new IllegalArgumentException("ids hold " + placeholders + " image pad ids (" + imagePadId + ") but "
                    + tokensPerImage.length + " images were given");
        }
        int[] out = new int[Math.toIntExact(total)];
        int o = 0;
        int k = 0;
        for (int id : ids) {
            if (id == imagePadId) {
                Arrays.fill(out, o, o + tokensPerImage[k], imagePadId);
                o += tokensPerImage[k++];
            } else {
                out[o++] = id;
            }
        }
        return out;
    }

    private static int checkCount(int[] tokensPerImage, int k) {
        if (tokensPerImage[k] < 1) {
            throw new IllegalArgumentException("tokensPerImage[" + k + "] must be at least 1, got " + tokensPerImage[k]);
        }
        return tokensPerImage[k];
    }

    /**
     * Applies Jinja2's {@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}
     * whitespace handling to a template source and removes the {@code +} modifiers, so that a
     * renderer with those options off gives Jinja2's output. {@code {% raw %}} contents are kept as
     * they are.
     */
    static String jinja2Whitespace(String template) {
        String src = template.replace("\r\n", "\n").replace('\r', '\n');
        if (src.endsWith("\n")) {
            src = src.substring(0, src.length() - 1);
        }
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        while (i < n) {
            int tag = nextTag(src, i);
            if (tag < 0) {
                out.append(src, i, n);
                break;
            }
            char kind = src.charAt(tag + 1);
            out.append(src, i, tag);
            int end = tagEnd(src, tag, kind);
            String text = src.substring(tag, end);
            if (kind == '{') {
                // Variables: no whitespace rule applies.
                out.append(text);
                i = end;
                continue;
            }
            if (text.charAt(2) != '+') {
                lstrip(out, src, tag);
            }
            out.append(stripPlus(text));
            i = end;
            if (kind == '%' && RAW.matcher(text).matches()) {
                // Raw content is literal; the endraw tag itself is lstripped and trimmed.
                Matcher m = END_RAW.matcher(src);
                if (!m.find(i)) {
                    throw new IllegalArgumentException("chat template: {% raw %} at offset " + tag + " has no {% endraw %}");
                }
                out.append(src, i, m.start());
                if (src.charAt(m.start() + 2) != '+') {
                    lstrip(out, src, m.start());
                }
                text = m.group();
                out.append(stripPlus(text));
                i = m.end();
            }
            boolean keepNewline = text.charAt(text.length() - 3) == '+';
            if (!keepNewline && i < n && src.charAt(i) == '\n') {
                i++;
            }
        }
        return out.toString();
    }

    /** A block or comment tag without its {@code +} modifiers ({@code {%+ ... +%}} -> {@code {% ... %}}). */
    private static String stripPlus(String tag) {
        String t = tag;
        if (t.length() >= 5 && t.charAt(t.length() - 3) == '+') {
            t = t.substring(0, t.length() - 3) + t.substring(t.length() - 2);
        }
        if (t.length() >= 5 && t.charAt(2) == '+') {
            t = t.substring(0, 2) + t.substring(3);
        }
        return t;
    }

    private static final Pattern RAW = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern END_RAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");

    /**
     * Jinja2's {@code lstrip_blocks}: if only spaces and tabs stand between the start of the source
     * line and the tag at {@code tagPos}, drops them from the end of {@code out} (where they were
     * just copied as text).
     */
    private static void lstrip(StringBuilder out, String src, int tagPos) {
        int j = tagPos;
        while (j > 0 && src.charAt(j - 1) != '\n' && Character.isWhitespace(src.charAt(j - 1))) {
            j--;
        }
        if (j == 0 || src.charAt(j - 1) == '\n') {
            out.setLength(out.length() - (tagPos - j));
        }
    }

    /** Index of the next {@code {{}, {@code {%} or {@code {#} at or after {@code from}, or -1. */
    private static int nextTag(String src, int from) {
        for (int i = from; i + 1 < src.length(); i++) {
            if (src.charAt(i) == '{') {
                char c = src.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
        }
        return -1;
    }

    /** End (exclusive) of the tag starting at {@code start}, skipping string literals and nested braces. */
    private static int tagEnd(String src, int start, char kind) {
        int n = src.length();
        if (kind == '#') {
            int end = src.indexOf("#}", start + 2);
            if (end < 0) {
                throw new IllegalArgumentException("chat template: comment at offset " + start + " is not closed");
            }
            return end + 2;
        }
        char close = kind == '{' ? '}' : '%';
        int depth = 0;
        char quote = 0;
        for (int i = start + 2; i < n; i++) {
            char c = src.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (depth == 0 && c == close && i + 1 < n && src.charAt(i + 1) == '}') {
                return i + 2;
            } else if (c == '{' || c == '(' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ')' || c == ']') && depth > 0) {
                depth--;
            }
        }
        throw new IllegalArgumentException("chat template: tag at offset " + start + " is not closed");
    }

    /** {@code raise_exception(message)} of transformers' template environment. */
    public static String raiseException(String message) {
        throw new TemplateRaisedException(message);
    }

    /**
     * {@code strftime_now(format)} of transformers' template environment: the local time formatted
     * with Python {@code strftime} directives ({@code %d %m %Y %y %H %I %M %S %p %b %B %a %A %j %%}).
     */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'd' -> sb.append(String.format(Locale.ROOT, "%02d", t.getDayOfMonth()));
                case 'm' -> sb.append(String.format(Locale.ROOT, "%02d", t.getMonthValue()));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format(Locale.ROOT, "%02d", t.getYear() % 100));
                case 'H' -> sb.append(String.format(Locale.ROOT, "%02d", t.getHour()));
                case 'I' -> sb.append(String.format(Locale.ROOT, "%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format(Locale.ROOT, "%02d", t.getMinute()));
                case 'S' -> sb.append(String.format(Locale.ROOT, "%02d", t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'j' -> sb.append(String.format(Locale.ROOT, "%03d", t.getDayOfYear()));
                case '%' -> sb.append('%');
                default -> throw new IllegalArgumentException("strftime_now: unsupported directive %" + d + " in \"" + format + "\"");
            }
        }
        return sb.toString();
    }

    /** The message of a {@code raise_exception} call, carried out of jinjava. */
    static final class TemplateRaisedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaisedException(String message) {
            super(message);
        }
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            JsonNode node = new ObjectMapper().readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new IOException(file + " must hold a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** A token written as a string or as a serialised {@code AddedToken} ({@code {"content": ...}}). */
    private static String tokenString(JsonNode node) {
        if (node != null && node.isObject()) {
            node = node.get("content");
        }
        return node != null && node.isTextual() ? node.asText() : null;
    }
}
