package io.vlmrl.policy;

/**
 * How {@link ResponseGenerator} picks tokens.
 *
 * @param temperature   > 0; logits are divided by it before top-k / top-p and sampling. The recorded
 *                      behaviour log-prob is always {@code log_softmax(logits / temperature)} of the
 *                      chosen token, over the full vocabulary (before top-k / top-p truncation), which
 *                      is what the trainer recomputes with the same temperature
 * @param topP          nucleus sampling: keep the smallest set of most likely tokens whose probability
 *                      reaches topP; 1 disables it; in (0, 1]
 * @param topK          keep only the topK most likely tokens; 0 disables it; >= 0
 * @param maxNewTokens  most tokens generated per sequence (the end token included); >= 1
 * @param greedy        take the most likely token (top-k, top-p and seed are then unused)
 * @param seed          the same seed, model and inputs always give the same samples
 */
public record SamplingConfig(double temperature, double topP, int topK, int maxNewTokens, boolean greedy, long seed) {

    public SamplingConfig {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("SamplingConfig.temperature must be finite and > 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("SamplingConfig.topP must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("SamplingConfig.topK must be >= 0 (0 = off), got " + topK);
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("SamplingConfig.maxNewTokens must be >= 1, got " + maxNewTokens);
        }
    }

    /** Plain sampling at temperature 1, no truncation. */
    public static SamplingConfig sample(int maxNewTokens, long seed) {
        return new SamplingConfig(1.0, 1.0, 0, maxNewTokens, false, seed);
    }

    /** Greedy decoding (log-probs recorded at temperature 1). */
    public static SamplingConfig greedy(int maxNewTokens) {
        return new SamplingConfig(1.0, 1.0, 0, maxNewTokens, true, 0L);
    }

    public SamplingConfig withSeed(long newSeed) {
        return new SamplingConfig(temperature, topP, topK, maxNewTokens, greedy, newSeed);
    }

    public SamplingConfig withTemperature(double t) {
        return new SamplingConfig(t, topP, topK, maxNewTokens, greedy, seed);
    }

    public SamplingConfig withTopP(double p) {
        return new SamplingConfig(temperature, p, topK, maxNewTokens, greedy, seed);
    }

    public SamplingConfig withTopK(int k) {
        return new SamplingConfig(temperature, topP, k, maxNewTokens, greedy, seed);
    }

    public SamplingConfig withMaxNewTokens(int n) {
        return new SamplingConfig(temperature, topP, topK, n, greedy, seed);
    }
}
