package io.vlmrl.policy;

/**
 * Text to token ids and back. Implemented by the built-in {@link WordTokenizer}; a Hugging Face
 * tokenizer can implement the same interface later.
 *
 * <p>{@link #encode} never adds special tokens (callers add BOS / the image placeholder / EOS
 * where their prompt format wants them). {@link #decode} leaves out pad, BOS and EOS.
 */
public interface Tokenizer {

    /** Token ids of {@code text}, without special tokens. */
    int[] encode(String text);

    /** Text of {@code ids}; pad, BOS and EOS are skipped. */
    String decode(int[] ids);

    /** Number of token ids (ids are {@code 0 .. vocabSize()-1}). */
    int vocabSize();

    int padId();

    int bosId();

    int eosId();

    /** The token that stands for the image in a prompt; the model expands it to the image tokens. */
    int imagePlaceholderId();

    /** The raw text of one token (for logs and debugging), e.g. {@code "red"} or {@code "<eos>"}. */
    String tokenText(int id);
}
