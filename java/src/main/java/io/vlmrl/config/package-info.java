/**
 * The configuration mechanism: a key is a record component annotated with {@link io.vlmrl.config.Key}
 * (default, range and help written once), and {@link io.vlmrl.config.Schema} derives the dotted names,
 * parsing, validation and listing from it. The sections themselves live with the stage that reads them
 * ({@code io.vlmrl.loss.LossConfig}, {@code io.vlmrl.rl.RolloutConfig}, ...); the whole configuration
 * of a run is {@code io.vlmrl.run.RunConfig}. This package depends on nothing else in vlmrl.
 */
package io.vlmrl.config;
