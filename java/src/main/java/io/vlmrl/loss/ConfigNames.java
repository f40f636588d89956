package io.vlmrl.loss;

import java.util.Arrays;

/** Parses configuration names into the loss options' enums, with one error format for all of them. */
final class ConfigNames {
    private ConfigNames() {}

    /**
     * The constant of {@code type} whose {@link ConfigName#configName()} is {@code value}.
     *
     * @param argName the setting being parsed, named in the error
     * @throws IllegalArgumentException naming {@code argName}, the accepted names and {@code value}
     */
    static <E extends Enum<E> & ConfigName> E parse(Class<E> type, String argName, String value) {
        E[] constants = type.getEnumConstants();
        for (E constant : constants) {
            if (constant.configName().equals(value)) {
                return constant;
            }
        }
        throw new IllegalArgumentException(argName + ": expected " + choices(constants) + ", got '" + value + "'");
    }

    /** "a or b" for two choices, "one of a, b, c" for more. */
    private static String choices(ConfigName[] constants) {
        String[] names = Arrays.stream(constants).map(ConfigName::configName).toArray(String[]::new);
        if (names.length == 2) {
            return names[0] + " or " + names[1];
        }
        return "one of " + String.join(", ", names);
    }
}
