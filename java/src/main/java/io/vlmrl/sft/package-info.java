/**
 * Supervised warm start ({@link io.vlmrl.sft.SftTrainer}): teacher-forced cross-entropy on the target
 * responses, so that the policy already answers in the {@link io.vlmrl.data.ResponseFormat} and RL
 * starts from a model whose sampled groups contain both right and wrong answers.
 */
package io.vlmrl.sft;
