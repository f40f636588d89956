package io.vlmrl.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a record component as a configuration key: its default, its allowed range and its
 * help text, written once. Everything else is derived from it by {@link Schema}: the key's
 * dotted name ({@code section.component_in_snake_case}), the YAML and {@code --set} parsing,
 * the validation and its error messages, and the listing of {@code vlmrl config}.
 *
 * <pre>{@code
 * public record RolloutConfig(
 *         @Key(def = "8", min = 1, max = 65536, help = "B: prompts (groups) per step") int promptsPerStep,
 *         ...
 * }</pre>
 *
 * Supported component types: {@code int}, {@code long}, {@code double}, {@code boolean},
 * {@code String} (optionally restricted to the names of a {@link #registry()}), enums
 * (implementing {@link ConfigName} when their configuration names differ from their Java names;
 * a static {@code parse(String)} method, when present, accepts aliases) and
 * {@code List<String>}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Key {

    /**
     * The default, written as on the command line: {@code "0.2"}, {@code "true"},
     * {@code "token-mean"}, {@code "a,b"} for a list, {@code ""} for an empty string or list.
     */
    String def();

    /** Smallest allowed value of a number key. */
    double min() default Double.NEGATIVE_INFINITY;

    /** Largest allowed value of a number key. */
    double max() default Double.POSITIVE_INFINITY;

    /** One line: what the key does and, where it matters, what its special values mean. */
    String help();

    /** The key's own name when it differs from the component's name in snake_case (e.g. a Java keyword). */
    String name() default "";

    /**
     * For a {@code String} key whose values are registered names (policy losses, advantage
     * estimators): a class with a public static {@code Set<String> names()} method. Its names at
     * resolution time are the allowed values, so names registered by a user before the
     * configuration is resolved are accepted too.
     */
    Class<?> registry() default void.class;
}
