package io.vlmrl.train;

import java.util.List;
import java.util.Locale;

/**
 * One configurable key of a run: its dotted name, its type, its default and the values it
 * accepts. {@link #coerce} turns a raw value (from YAML or a {@code --set key=value} string)
 * into the typed value, or refuses it with a message naming the key, the value and the
 * allowed range.
 */
public final class Setting {

    /** The value types a setting can have. */
    public enum Kind { INT, DOUBLE, BOOL, CHOICE }

    private final String key;
    private final Kind kind;
    private final Object defaultValue;
    private final double min;
    private final double max;
    private final List<String> choices;
    private final String help;

    private Setting(String key, Kind kind, Object defaultValue, double min, double max,
                    List<String> choices, String help) {
        this.key = key;
        this.kind = kind;
        this.min = min;
        this.max = max;
        this.choices = choices;
        this.help = help;
        this.defaultValue = coerce(defaultValue);
    }

    /** An integer in [min, max]. */
    public static Setting integer(String key, long defaultValue, long min, long max, String help) {
        return new Setting(key, Kind.INT, defaultValue, min, max, List.of(), help);
    }

    /** A finite real number in [min, max]. */
    public static Setting real(String key, double defaultValue, double min, double max, String help) {
        return new Setting(key, Kind.DOUBLE, defaultValue, min, max, List.of(), help);
    }

    /** true or false. */
    public static Setting flag(String key, boolean defaultValue, String help) {
        return new Setting(key, Kind.BOOL, defaultValue, 0, 1, List.of(), help);
    }

    /** One of a fixed list of names. */
    public static Setting choice(String key, String defaultValue, List<String> choices, String help) {
        return new Setting(key, Kind.CHOICE, defaultValue, 0, 0, List.copyOf(choices), help);
    }

    public String key() { return key; }
    public Kind kind() { return kind; }
    public Object defaultValue() { return defaultValue; }
    public String help() { return help; }

    /** The allowed values, as a message fragment: "an integer in [1, 64]", "one of [ppo, grpo]". */
    public String allowed() {
        switch (kind) {
            case INT: return "an integer in [" + (long) min + ", " + (long) max + "]";
            case DOUBLE: return "a number in [" + format(min) + ", " + format(max) + "]";
            case BOOL: return "true or false";
            default: return "one of " + choices;
        }
    }

    /**
     * The typed value (Integer, Double, Boolean or String) of {@code raw}, which may be a
     * String from the command line or a number/boolean from YAML.
     *
     * @throws IllegalArgumentException naming the key, the value and the allowed range
     */
    public Object coerce(Object raw) {
        if (raw == null) {
            throw refused("null");
        }
        String text = raw.toString().trim();
        switch (kind) {
            case INT: {
                long v;
                try {
                    v = raw instanceof Number && !(raw instanceof Double || raw instanceof Float)
                            ? ((Number) raw).longValue() : Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw refused(text);
                }
                if (v < min || v > max) throw refused(text);
                return (int) v;
            }
            case DOUBLE: {
                double v;
                try {
                    v = raw instanceof Number ? ((Number) raw).doubleValue() : Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw refused(text);
                }
                if (!Double.isFinite(v) || v < min || v > max) throw refused(text);
                return v;
            }
            case BOOL: {
                if (raw instanceof Boolean) return raw;
                String lower = text.toLowerCase(Locale.ROOT);
                if (lower.equals("true") || lower.equals("false")) return Boolean.parseBoolean(lower);
                throw refused(text);
            }
            default: {
                if (!choices.contains(text)) throw refused(text);
                return text;
            }
        }
    }

    private IllegalArgumentException refused(String value) {
        return new IllegalArgumentException(
                "config key '" + key + "': expected " + allowed() + ", got '" + value + "'");
    }

    private static String format(double v) {
        if (v == Double.MAX_VALUE) return "inf";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }
}
