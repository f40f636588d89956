package io.vlmrl.algo;

/** Advantages of one group's responses from their rewards (one value per response). */
@FunctionalInterface
public interface AdvantageEstimator {
    double[] group(double[] rewards);
}
