/**
 * What the trainers need of a model: the {@link io.vlmrl.policy.Policy} interface, its
 * {@link io.vlmrl.policy.Tokenizer}, {@link io.vlmrl.policy.EncodedPrompt encoded prompts},
 * {@link io.vlmrl.policy.SamplingConfig sampling settings} and
 * {@link io.vlmrl.policy.GeneratedResponses generated responses}.
 */
package io.vlmrl.policy;
