package io.vlmrl.config;

import java.util.Arrays;
import java.util.List;

/** Parses configuration names into enums, with one error format for all of them. */
public final class ConfigNames {
    private ConfigNames() {}

    /**
     * The constant of {@code type} whose {@link ConfigName#configName()} is {@code value}.
     *
     * @param argName the setting being parsed, named in the error
     * @throws IllegalArgumentException naming {@code argName}, the accepted names and {@code value}
     */
    public static <E extends Enum<E> & ConfigName> E parse(Class<E> type, String argName, String value) {
        E[] constants = type.getEnumConstants();
        for (E constant : constants) {
            if (constant.configName().equals(value)) {
                return constant;
            }
        }
        throw new IllegalArgumentException(argName + ": expected " + choices(names(type)) + ", got '" + value + "'");
    }

    /** The configuration names of an enum's constants, in declaration order. */
    public static <E extends Enum<E> & ConfigName> List<String> names(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(ConfigName::configName).toList();
    }

    /** "a or b" for two choices, "one of a, b, c" for more. */
    public static String choices(List<String> names) {
        if (names.size() == 2) {
            return names.get(0) + " or " + names.get(1);
        }
        return "one of " + String.join(", ", names);
    }
}
