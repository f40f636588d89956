package io.vlmrl.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The configuration keys of a record type, derived from its {@link Key}-annotated components;
 * components that are themselves records without {@code @Key} are sections whose keys get the
 * component's name as a prefix ({@code loss.eps_low}). Builds records from dotted key/value maps
 * and flattens them back, checking every value against its key's range.
 *
 * <p>A section record stays a plain Java record: library users may construct one directly and
 * call {@link #check} (the trainers do so with what they are given) to have the same checks as
 * the command line.
 */
public final class Schema<T extends Record> {

    private static final Map<Class<?>, Schema<?>> CACHE = new ConcurrentHashMap<>();

    private final Class<T> type;
    private final Map<String, Setting> settings;

    private Schema(Class<T> type) {
        this.type = type;
        Map<String, Setting> m = new LinkedHashMap<>();
        Section section = type.getAnnotation(Section.class);
        collect(type, "", section == null ? "" : section.value() + ".", m);
        this.settings = Collections.unmodifiableMap(m);
    }

    /** The schema of {@code type} (computed once per type). */
    @SuppressWarnings("unchecked")
    public static <T extends Record> Schema<T> of(Class<T> type) {
        return (Schema<T>) CACHE.computeIfAbsent(type, t -> new Schema<>(type));
    }

    /** A record of {@code type} holding every key's default. */
    public static <T extends Record> T defaults(Class<T> type) {
        return of(type).build(Map.of());
    }

    /**
     * Checks every value of {@code record} against its key's allowed values and returns it.
     *
     * @throws IllegalArgumentException naming the first key out of range
     */
    public static <T extends Record> T check(T record) {
        @SuppressWarnings("unchecked")
        Schema<T> schema = of((Class<T>) record.getClass());
        schema.flatten(record).forEach((key, value) -> schema.settings.get(key).coerce(value));
        return record;
    }

    /**
     * A copy of {@code record} with {@code key=value} overrides (keys relative to the record, as
     * {@code "group_size=16"}), parsed and checked as on the command line.
     */
    public static <T extends Record> T with(T record, String... overrides) {
        @SuppressWarnings("unchecked")
        Schema<T> schema = of((Class<T>) record.getClass());
        Map<String, Object> values = schema.flatten(record);
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("override: expected key=value, got '" + o + "'");
            String key = o.substring(0, eq).trim();
            values.put(key, schema.setting(key).coerce(o.substring(eq + 1)));
        }
        return schema.build(values);
    }

    /** Every key, by dotted name, in declaration order. */
    public Map<String, Setting> settings() {
        return settings;
    }

    /** The key {@code key}, or an error that names the unknown key and the closest known ones. */
    public Setting setting(String key) {
        Setting s = settings.get(key);
        if (s == null) {
            throw new IllegalArgumentException("unknown config key '" + shownPrefix() + key + "'" + suggestions(key)
                    + "; 'vlmrl config' lists every key");
        }
        return s;
    }

    private String shownPrefix() {
        Section section = type.getAnnotation(Section.class);
        return section == null ? "" : section.value() + ".";
    }

    /** Every key's default value, by dotted name. */
    public Map<String, Object> defaultValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        settings.forEach((k, s) -> m.put(k, s.defaultValue()));
        return m;
    }

    /**
     * Builds a record from typed values by dotted key (as {@link Setting#coerce} returns them);
     * keys not given take their defaults. Cross-key checks in the records' constructors run too.
     *
     * @throws IllegalArgumentException for an unknown key or a value a constructor refuses
     */
    public T build(Map<String, Object> values) {
        values.keySet().forEach(this::setting);
        return type.cast(construct(type, "", values));
    }

    /** The values of {@code record} by dotted key (typed, as {@link #build} takes them). */
    public Map<String, Object> flatten(T record) {
        Map<String, Object> out = new LinkedHashMap<>();
        flattenInto(record, "", out);
        return out;
    }

    private Object construct(Class<?> recordType, String prefix, Map<String, Object> values) {
        RecordComponent[] components = recordType.getRecordComponents();
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            types[i] = c.getType();
            String key = prefix + nameOf(c);
            if (c.isAnnotationPresent(Key.class)) {
                args[i] = values.containsKey(key) ? values.get(key) : settings.get(key).defaultValue();
            } else {
                args[i] = construct(c.getType(), key + ".", values);
            }
        }
        try {
            Constructor<?> ctor = recordType.getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) throw iae;
            throw new IllegalStateException("cannot build " + recordType.getSimpleName() + ": " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + recordType.getSimpleName(), e);
        }
    }

    private static void flattenInto(Object record, String prefix, Map<String, Object> out) {
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            Object value;
            try {
                c.getAccessor().setAccessible(true);
                value = c.getAccessor().invoke(record);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + c, e);
            }
            String key = prefix + nameOf(c);
            if (c.isAnnotationPresent(Key.class)) {
                out.put(key, value);
            } else {
                flattenInto(value, key + ".", out);
            }
        }
    }

    private static void collect(Class<?> recordType, String prefix, String shownPrefix, Map<String, Setting> out) {
        for (RecordComponent c : recordType.getRecordComponents()) {
            String key = prefix + nameOf(c);
            Key annotation = c.getAnnotation(Key.class);
            if (annotation != null) {
                out.put(key, new Setting(key, shownPrefix + key, c, annotation));
            } else if (c.getType().isRecord()) {
                collect(c.getType(), key + ".", shownPrefix, out);
            } else {
                throw new IllegalStateException(recordType.getName() + "." + c.getName()
                        + ": a configuration component needs @Key or must be a section record");
            }
        }
    }

    /** The component's key name: {@link Key#name()} or its Java name in snake_case. */
    static String nameOf(RecordComponent c) {
        Key k = c.getAnnotation(Key.class);
        if (k != null && !k.name().isEmpty()) return k.name();
        return snakeCase(c.getName());
    }

    /** {@code promptsPerStep} → {@code prompts_per_step}. */
    public static String snakeCase(String camel) {
        StringBuilder sb = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                sb.append('_').append(Character.toLowerCase(ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    private String suggestions(String key) {
        List<String> close = new ArrayList<>(settings.keySet());
        close.sort(Comparator.comparingInt(k -> distance(k, key)));
        List<String> best = close.subList(0, Math.min(3, close.size())).stream()
                .filter(k -> distance(k, key) <= Math.max(3, key.length() / 3)).toList();
        return best.isEmpty() ? "" : " (did you mean " + String.join(", ", best) + "?)";
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
