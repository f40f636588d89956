/**
 * Greedy-decoding accuracy on held-out problems ({@link io.vlmrl.eval.Evaluator}), overall and per
 * question type, as an {@link io.vlmrl.eval.EvalResult} that is also written as JSON.
 */
package io.vlmrl.eval;
