package io.vlmrl.run;

import io.vlmrl.config.Setting;

import java.util.Map;

/** Every configuration key with its default, allowed values and help, as text or as a markdown table. */
public final class ConfigTable {

    private ConfigTable() {
    }

    /**
     * A markdown table of every key (docs/algorithms.md embeds it; a test keeps the two equal). Keys
     * whose values are registered names say so rather than listing what is registered right now.
     */
    public static String markdown() {
        StringBuilder sb = new StringBuilder("| key | default | allowed | meaning |\n| --- | --- | --- | --- |\n");
        for (Setting s : RunConfig.schema().settings().values()) {
            sb.append("| `").append(s.key()).append("` | ").append(cell(show(s.toPlain(s.defaultValue()))))
                    .append(" | ").append(cell(s.registryBacked() ? "a registered name" : s.allowed())).append(" | ").append(cell(s.help())).append(" |\n");
        }
        return sb.toString();
    }

    /**
     * Every key grouped by section: its value in {@code config} and its help, then its default and
     * allowed values.
     */
    public static String text(RunConfig config) {
        Map<String, Object> values = config.plainValues();
        StringBuilder sb = new StringBuilder();
        String section = null;
        for (Setting s : RunConfig.schema().settings().values()) {
            String key = s.key();
            String head = key.contains(".") ? key.substring(0, key.indexOf('.')) : "(run)";
            if (!head.equals(section)) {
                sb.append('\n').append('[').append(head).append("]\n");
                section = head;
            }
            sb.append(String.format("%-34s %-22s %s%n", key, clip(show(values.get(key))), s.help()));
            sb.append(String.format("%-34s %-22s %s%n", "", "", "default " + show(s.toPlain(s.defaultValue())) + "; " + s.allowed()));
        }
        return sb.toString();
    }

    private static String show(Object v) {
        if (v instanceof String str && str.isEmpty()) return "''";
        if (v instanceof java.util.List<?> list) return String.join(",", list.stream().map(String::valueOf).toList());
        return String.valueOf(v);
    }

    private static String clip(String s) {
        return s.length() > 22 ? s.substring(0, 19) + "..." : s;
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }
}
