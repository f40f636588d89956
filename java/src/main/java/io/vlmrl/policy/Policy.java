package io.vlmrl.policy;

import io.vlmrl.data.Problem;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A trainable vision-language policy, as the SFT trainer, the RL trainer and the evaluator see it.
 * The built-in miniature VLM implements it, so does the Qwen2.5-VL model, and so can a user's own
 * LibTorch module: nothing in the trainers depends on a concrete model.
 *
 * <h2>Prompts</h2>
 * {@link #encodePrompt} turns a problem (its images and question) into the policy's own prompt
 * format (its chat template, image tokens and preprocessing) and keeps the result in Java memory,
 * so an {@link EncodedPrompt} can be held across steps without owning native memory. Batched calls
 * take one prompt per row; rows that share the same {@code EncodedPrompt} object (the G responses
 * of a group) share it by identity, so an implementation may encode each distinct prompt's images
 * and prefill it once.
 *
 * <h2>Native memory</h2>
 * Tensors returned by {@link #responseHidden} and {@link #responseLogits} are new tensors owned
 * by the caller: open a {@code PointerScope} around the calls (the trainers do, per micro-batch)
 * and they are freed when it closes. {@link #lmHeadWeight()} and {@link #trainableParameters()}
 * return views of the policy's own parameters, which live until {@link #close()}.
 */
public interface Policy extends AutoCloseable {

    /** One line for logs, e.g. {@code "built-in VLM (1.2M parameters)"}. */
    String describe();

    /** The text tokenizer: response ids to text and back, end and pad ids. */
    Tokenizer tokenizer();

    /**
     * Checks that this policy can take {@code problem} (number of images, text it can encode) and
     * throws an {@link IllegalArgumentException} saying what is wrong otherwise. Called on every
     * problem of a data set before any training starts.
     */
    void check(Problem problem);

    /** The problem's prompt in this policy's format (Java memory only). */
    EncodedPrompt encodePrompt(Problem problem);

    /** Token ids of a target response for supervised training, the end token included. */
    int[] encodeResponse(String response);

    /** The text of generated response ids (the end token and padding left out). */
    String decodeResponse(int[] ids);

    /**
     * Samples {@code samplesPerPrompt} responses for each prompt without gradients. Row
     * {@code p * samplesPerPrompt + i} is sample i of prompt p. The same seed, weights and
     * prompts always give the same samples.
     */
    GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling);

    /**
     * {@link #generate(List, int, SamplingConfig)} with prompt p's samples seeded by
     * {@code promptSeeds[p]} alone ({@code sampling}'s own seed is unused): the same samples as a
     * call for prompt p alone with that seed, whatever other prompts share the call. The RL rollout
     * uses it so that a group's responses do not depend on which groups a process samples with it
     * (data-parallel ranks each sample a share of a batch). This default makes one call per prompt;
     * the built-in and Qwen policies batch the prompts ({@link SamplingStreams#perPrompt}).
     */
    default GeneratedResponses generate(List<EncodedPrompt> prompts, int samplesPerPrompt, SamplingConfig sampling,
                                        long[] promptSeeds) {
        SamplingStreams.requireOnePerPrompt(promptSeeds, prompts.size());
        int rows = prompts.size() * samplesPerPrompt;
        int[][] tokens = new int[rows][];
        float[][] logProbs = new float[rows][];
        boolean[] truncated = new boolean[rows];
        for (int p = 0; p < prompts.size(); p++) {
            GeneratedResponses one = generate(List.of(prompts.get(p)), samplesPerPrompt, sampling.withSeed(promptSeeds[p]));
            System.arraycopy(one.tokens(), 0, tokens, p * samplesPerPrompt, samplesPerPrompt);
            System.arraycopy(one.logProbs(), 0, logProbs, p * samplesPerPrompt, samplesPerPrompt);
            System.arraycopy(one.truncated(), 0, truncated, p * samplesPerPrompt, samplesPerPrompt);
        }
        return new GeneratedResponses(tokens, logProbs, truncated);
    }

    /**
     * Final hidden states [B, T, D] (teacher forcing): row t, projected by the LM head, is the
     * distribution of response token t given the prompt and the response tokens before it.
     *
     * @param prompts     B prompts, one per row
     * @param responseIds [B, T] int64, right-padded with the tokenizer's pad id
     */
    Tensor responseHidden(List<EncodedPrompt> prompts, Tensor responseIds);

    /** The LM head matrix [V, D] (the token embedding when they are tied): logits = hidden · Wᵀ. */
    Tensor lmHeadWeight();

    /** Logits [B, T, V] of the response tokens: {@link #responseHidden} through the LM head. */
    default Tensor responseLogits(List<EncodedPrompt> prompts, Tensor responseIds) {
        return responseHidden(prompts, responseIds).matmul(lmHeadWeight().t());
    }

    /**
     * The parameters an optimizer updates, by name, in a stable order; frozen parts (a frozen
     * vision tower, a reference copy) are left out. The tensors are the policy's own.
     */
    Map<String, Tensor> trainableParameters();

    /** A frozen copy of the current weights (no gradients), e.g. the KL reference. */
    Policy frozenCopy();

    /** Saves weights, configuration and tokenizer so that the policy can be loaded again from {@code dir}. */
    void save(Path dir) throws IOException;

    /**
     * Replaces the weights with those {@link #save} wrote to {@code dir} from a policy of the same
     * kind and sizes (a training checkpoint of this policy).
     */
    void loadWeights(Path dir) throws IOException;

    /** Where the parameters live. */
    Device device();

    /** Frees the native memory of the parameters. */
    @Override
    void close();
}
