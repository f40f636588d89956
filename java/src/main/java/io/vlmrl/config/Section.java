package io.vlmrl.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names a section record ({@code "loss"} for the {@code loss.*} keys), so that checks of the record
 * on its own ({@link Schema#check}, {@link Schema#with}) name its keys in full, as the command line
 * does. Where a section sits in a larger configuration, its component name gives the prefix.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Section {
    /** The section's name, the first part of its keys. */
    String value();
}
