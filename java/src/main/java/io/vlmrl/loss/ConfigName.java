package io.vlmrl.loss;

/** An option whose configuration name (e.g. {@code token-mean}) differs from its Java constant name. */
interface ConfigName {
    /** The name used in configuration files and on the command line. */
    String configName();
}
