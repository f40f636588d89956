package io.vlmrl.config;

/**
 * An enum constant whose name in configuration files and on the command line (e.g.
 * {@code token-mean}) differs from its Java name. Enums used as {@link Key configuration keys}
 * implement it; {@link ConfigNames#parse} reads them back.
 */
public interface ConfigName {
    /** The name used in configuration files and on the command line. */
    String configName();
}
