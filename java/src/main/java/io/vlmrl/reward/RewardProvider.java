package io.vlmrl.reward;

/**
 * A reward function that vlmrl finds on the classpath with {@link java.util.ServiceLoader}:
 * list the implementing class in {@code META-INF/services/io.vlmrl.reward.RewardProvider} of your
 * jar, and {@code reward.name=<its name>} selects it, with no change to vlmrl.
 */
public interface RewardProvider {

    /** The name {@code reward.name} selects it by. */
    String name();

    /** The reward function for the run's {@code reward.*} settings. */
    RewardFunction create(RewardConfig config);
}
