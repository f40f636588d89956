package io.vlmrl.data;

/**
 * The reward of one response.
 *
 * @param total     accuracy + format + reasoning (what the RL trainer maximises)
 * @param accuracy  1 when the answer is right, else 0
 * @param format    the format part, already weighted: formatWeight when well formed, else 0
 * @param reasoning the reasoning part, already weighted: reasoningWeight x the share of the worked
 *                  response's reasoning words that the response reproduces (0 when off)
 * @param correct   whether the answer is right (APO's c_i)
 */
public record Reward(double total, double accuracy, double format, double reasoning, boolean correct) {
    public static final Reward ZERO = new Reward(0, 0, 0, 0, false);
}
