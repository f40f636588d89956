package io.vlmrl.policy;

/**
 * A problem's prompt as one {@link Policy} encodes it: token ids and preprocessed pixels, held in
 * Java memory so that it owns no native memory and can be kept across steps. Only the policy that
 * made it reads its content; trainers pass it back unchanged, and rows that share one object
 * share its encoding (see {@link Policy}).
 */
public interface EncodedPrompt {

    /** Positions the prompt takes in the model's sequence, image tokens included. */
    int length();
}
