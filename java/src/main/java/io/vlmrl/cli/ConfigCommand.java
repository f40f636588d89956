package io.vlmrl.cli;

import io.vlmrl.run.ConfigTable;
import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code config}: every configuration key with its value, default, allowed range and help. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "List every configuration key: its value (for --preset, --config, --set), default, allowed values and help.")
public final class ConfigCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "show the values of this preset (default: from --config, else acpo)")
    String preset;

    @Option(names = "--markdown", description = "print the keys, defaults, allowed values and help as a markdown table")
    boolean markdown;

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        if (markdown) {
            System.out.print(ConfigTable.markdown());
        } else {
            System.out.print(ConfigTable.text(options.resolve(preset)));
        }
        return 0;
    }
}
