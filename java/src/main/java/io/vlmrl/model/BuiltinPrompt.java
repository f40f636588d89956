package io.vlmrl.model;

import io.vlmrl.policy.EncodedPrompt;

/**
 * A prompt of the built-in model: {@code <bos> <image> question-tokens} and the image as
 * [3, H, W] floats in [0, 1] at the model's input size. Java memory only.
 *
 * @param ids    prompt token ids, the image placeholder among them
 * @param pixels the image, channel-major RGB, {@code 3 * imageSize * imageSize} values
 * @param length positions in the model's sequence: the ids with the placeholder expanded to the image tokens
 */
record BuiltinPrompt(int[] ids, float[] pixels, int length) implements EncodedPrompt {
}
