package io.vlmrl.loss;

/**
 * Valid-token counts behind the clip fractions by advantage sign and size: "large" means
 * {@code |A| >= loss.clipfrac_adv_split}. The upper clip only acts on {@code A > 0} tokens and
 * the lower clip on {@code A < 0} ones, so each class's fraction is over that class's own tokens
 * ({@link PolicyLossMetrics#toMap()}).
 */
public record ClipClasses(
        long advPos,
        long advNeg,
        long advPosLarge,
        long advNegLarge,
        long clipUpperLarge,
        long clipLowerLarge) {

    /** Counts per record, in the order of {@link #toArray()}. */
    public static final int SIZE = 6;

    /** No tokens: the identity of {@link #plus}. */
    public static ClipClasses empty() {
        return new ClipClasses(0, 0, 0, 0, 0, 0);
    }

    public ClipClasses plus(ClipClasses o) {
        return new ClipClasses(advPos + o.advPos, advNeg + o.advNeg, advPosLarge + o.advPosLarge,
                advNegLarge + o.advNegLarge, clipUpperLarge + o.clipUpperLarge, clipLowerLarge + o.clipLowerLarge);
    }

    /** The counts as doubles (exact below 2^53), e.g. for an all-reduce. */
    public double[] toArray() {
        return new double[] {advPos, advNeg, advPosLarge, advNegLarge, clipUpperLarge, clipLowerLarge};
    }

    /** The inverse of {@link #toArray()}, reading {@link #SIZE} values from {@code at}. */
    public static ClipClasses fromArray(double[] v, int at) {
        return new ClipClasses((long) v[at], (long) v[at + 1], (long) v[at + 2], (long) v[at + 3], (long) v[at + 4],
                (long) v[at + 5]);
    }
}
