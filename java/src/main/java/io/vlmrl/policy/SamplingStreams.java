package io.vlmrl.policy;

import java.util.SplittableRandom;

/**
 * The random streams a batched generator draws tokens from, one per row, so that a row's samples
 * depend on its stream alone (not on when the other rows stop).
 */
public final class SamplingStreams {

    private SamplingStreams() {
    }

    /** {@code rows} streams split in turn from one seeded stream (the rows of one {@code generate} call). */
    public static SplittableRandom[] of(long seed, int rows) {
        SplittableRandom base = new SplittableRandom(seed);
        SplittableRandom[] random = new SplittableRandom[rows];
        for (int i = 0; i < rows; i++) random[i] = base.split();
        return random;
    }

    /**
     * {@code samplesPerPrompt} streams per prompt, prompt p's split from a stream seeded by
     * {@code promptSeeds[p]} alone: exactly the streams of a call for prompt p alone with seed
     * {@code promptSeeds[p]}, so batching prompts together changes none of their samples.
     */
    public static SplittableRandom[] perPrompt(long[] promptSeeds, int samplesPerPrompt) {
        return perPrompt(promptSeeds, promptSeeds.length, samplesPerPrompt);
    }

    /**
     * {@link #perPrompt(long[], int)} for a call with {@code prompts} prompts, refusing a seed
     * array of another length (a negative sample count gives no streams; the caller refuses it).
     */
    public static SplittableRandom[] perPrompt(long[] promptSeeds, int prompts, int samplesPerPrompt) {
        requireOnePerPrompt(promptSeeds, prompts);
        samplesPerPrompt = Math.max(samplesPerPrompt, 0);
        SplittableRandom[] random = new SplittableRandom[promptSeeds.length * samplesPerPrompt];
        for (int p = 0; p < promptSeeds.length; p++) {
            SplittableRandom[] mine = of(promptSeeds[p], samplesPerPrompt);
            System.arraycopy(mine, 0, random, p * samplesPerPrompt, samplesPerPrompt);
        }
        return random;
    }

    /** Refuses {@code promptSeeds} unless it holds one seed per prompt. */
    public static void requireOnePerPrompt(long[] promptSeeds, int prompts) {
        if (promptSeeds.length != prompts) {
            throw new IllegalArgumentException("promptSeeds: expected one per prompt (" + prompts + "), got "
                    + promptSeeds.length);
        }
    }
}
