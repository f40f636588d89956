package io.vlmrl.config;

import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One configuration key as {@link Schema} derived it from a {@link Key} annotation: its dotted
 * name, type, default and allowed values. {@link #coerce} turns a raw value (a string from the
 * command line, a number or list from YAML) into the typed value or refuses it with a message
 * naming the key, the expected values and the actual value.
 */
public final class Setting {

    /** The value types a key can have. */
    public enum Kind { INT, LONG, DOUBLE, BOOL, STRING, ENUM, LIST }

    private final String key;
    private final String shownKey;
    private final RecordComponent component;
    private final Kind kind;
    private final Class<?> type;
    private final double min;
    private final double max;
    private final String help;
    private final Class<?> registry;
    private final Object defaultValue;

    /**
     * @param key      the dotted name within its schema
     * @param shownKey the name errors show: {@code key} with the section's name when the schema is a section's own
     */
    Setting(String key, String shownKey, RecordComponent component, Key annotation) {
        this.key = key;
        this.shownKey = shownKey;
        this.component = component;
        this.type = component.getType();
        this.kind = kindOf(component);
        this.min = annotation.min();
        this.max = annotation.max();
        this.help = annotation.help();
        this.registry = annotation.registry() == void.class ? null : annotation.registry();
        if (registry != null && kind != Kind.STRING) {
            throw new IllegalStateException(shownKey + ": a registry applies to String keys only");
        }
        this.defaultValue = coerce(annotation.def());
    }

    /** The dotted name, e.g. {@code loss.eps_low}. */
    public String key() { return key; }
    public Kind kind() { return kind; }
    /** The record component this key fills. */
    public RecordComponent component() { return component; }
    public Object defaultValue() { return defaultValue; }
    public String help() { return help; }

    /** Whether the allowed values are a registry's names (which code may extend at run time). */
    public boolean registryBacked() {
        return registry != null;
    }

    /** The allowed values as a message fragment: "an integer in [1, 64]", "one of ppo, grpo". */
    public String allowed() {
        switch (kind) {
            case INT:
            case LONG:
                return "an integer in [" + number(min) + ", " + number(max) + "]";
            case DOUBLE:
                return "a number in [" + number(min) + ", " + number(max) + "]";
            case BOOL:
                return "true or false";
            case ENUM:
                return ConfigNames.choices(enumNames());
            case LIST:
                return "a list of names (YAML list or a,b,c)";
            default:
                return registry != null ? ConfigNames.choices(List.copyOf(registryNames())) : "a string";
        }
    }

    /**
     * The typed value of {@code raw}: Integer, Long, Double, Boolean, String, the enum constant or
     * an unmodifiable {@code List<String>}.
     *
     * @throws IllegalArgumentException naming the key, the allowed values and {@code raw}
     */
    public Object coerce(Object raw) {
        if (raw == null) {
            throw refused("null");
        }
        if (kind == Kind.ENUM && type.isInstance(raw)) {
            return raw;
        }
        String text = raw instanceof Collection<?> c ? String.join(",", c.stream().map(String::valueOf).toList())
                : raw.toString().trim();
        switch (kind) {
            case INT:
            case LONG: {
                long v;
                try {
                    v = raw instanceof Number n && !(raw instanceof Double || raw instanceof Float)
                            ? n.longValue() : Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw refused(text);
                }
                if (v < min || v > max) throw refused(text);
                if (kind == Kind.INT) {
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw refused(text);
                    return (int) v;
                }
                return v;
            }
            case DOUBLE: {
                double v;
                try {
                    v = raw instanceof Number n ? n.doubleValue() : Double.parseDouble(text);
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
            case ENUM:
                return parseEnum(text);
            case LIST: {
                List<String> items = new ArrayList<>();
                if (raw instanceof Collection<?> c) {
                    for (Object o : c) items.add(String.valueOf(o).trim());
                } else if (!text.isEmpty()) {
                    for (String s : text.split(",")) items.add(s.trim());
                }
                if (items.stream().anyMatch(String::isEmpty)) throw refused(text);
                return List.copyOf(items);
            }
            default: {
                if (registry != null && !registryNames().contains(text)) throw refused(text);
                return text;
            }
        }
    }

    /** How {@code value} (a typed value of this key) is written in YAML and on the command line. */
    public Object toPlain(Object value) {
        if (value instanceof ConfigName n) return n.configName();
        if (value instanceof Enum<?> e) return enumName(e);
        return value;
    }

    private Object parseEnum(String text) {
        try {
            Method parse = type.getMethod("parse", String.class);
            if (java.lang.reflect.Modifier.isStatic(parse.getModifiers()) && parse.getReturnType() == type) {
                try {
                    return parse.invoke(null, text);
                } catch (java.lang.reflect.InvocationTargetException e) {
                    throw refused(text);
                }
            }
        } catch (NoSuchMethodException | IllegalAccessException ignored) {
            // no parse(): match the configuration names below
        }
        for (Object constant : type.getEnumConstants()) {
            if (toPlain(constant).equals(text)) return constant;
        }
        throw refused(text);
    }

    private List<String> enumNames() {
        return Arrays.stream(type.getEnumConstants()).map(c -> (String) toPlain(c)).toList();
    }

    private static String enumName(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @SuppressWarnings("unchecked")
    private Set<String> registryNames() {
        try {
            return (Set<String>) registry.getMethod("names").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(shownKey + ": registry " + registry.getName() + " has no static names()", e);
        }
    }

    private IllegalArgumentException refused(String value) {
        return new IllegalArgumentException("config key '" + shownKey + "': expected " + allowed() + ", got '" + value + "'");
    }

    private static Kind kindOf(RecordComponent c) {
        Class<?> t = c.getType();
        if (t == int.class) return Kind.INT;
        if (t == long.class) return Kind.LONG;
        if (t == double.class) return Kind.DOUBLE;
        if (t == boolean.class) return Kind.BOOL;
        if (t == String.class) return Kind.STRING;
        if (t.isEnum()) return Kind.ENUM;
        if (t == List.class) {
            Type g = c.getGenericType();
            if (g instanceof ParameterizedType p && p.getActualTypeArguments()[0] == String.class) return Kind.LIST;
        }
        throw new IllegalStateException("@Key on " + c + ": unsupported type " + c.getGenericType());
    }

    private static String number(double v) {
        if (v == Double.NEGATIVE_INFINITY || v == -Double.MAX_VALUE) return "-inf";
        if (v == Double.POSITIVE_INFINITY || v == Double.MAX_VALUE) return "inf";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }

    @Override
    public String toString() {
        return key + " (" + allowed() + ", default " + toPlain(defaultValue) + ")";
    }
}
