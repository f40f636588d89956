package io.vlmrl.cli;

import io.vlmrl.config.Setting;
import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code config}: every configuration key with its value, default, allowed range and help. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "List every configuration key: its value (for --preset, --config, --set), default, allowed values and help.")
public final class ConfigCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "show the values of this preset (default: from --config, else acpo)")
    String preset;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        RunConfig config = options.resolve(preset);
        Map<String, Object> values = config.plainValues();
        String section = "";
        for (Setting s : RunConfig.schema().settings().values()) {
            String key = s.key();
            String head = key.contains(".") ? key.substring(0, key.indexOf('.')) : "";
            if (!head.equals(section)) {
                System.out.println();
                System.out.println("[" + head + "]");
                section = head;
            }
            Object value = values.get(key);
            Object def = s.toPlain(s.defaultValue());
            System.out.printf("%-34s %-22s %s%n", key, show(value), s.help());
            System.out.printf("%-34s %-22s %s%n", "", "", "default " + show(def) + "; " + s.allowed());
        }
        return 0;
    }

    private static String show(Object v) {
        String s = v instanceof String str && str.isEmpty() ? "''" : String.valueOf(v);
        return s.length() > 22 ? s.substring(0, 19) + "..." : s;
    }
}
