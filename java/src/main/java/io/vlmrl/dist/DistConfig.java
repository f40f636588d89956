package io.vlmrl.dist;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/**
 * The {@code dist.*} keys: how the ranks of a data-parallel run meet and how long they wait for
 * each other. How many ranks there are and where they meet is not configuration but launch
 * ({@code --nproc}, or {@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}
 * set by a launcher; {@link LaunchEnvironment}): the same run may continue with another number of
 * ranks. A single-process run reads none of these keys.
 */
@Section("dist")
public record DistConfig(
        @Key(def = "60", min = 1, max = 86400,
                help = "data parallel: seconds a rank waits for the rendezvous store and for every rank to join")
        int rendezvousTimeoutS,
        @Key(def = "600", min = 1, max = 86400,
                help = "data parallel: seconds a collective waits for the other ranks before the run stops naming the rank "
                        + "that did not answer (a rank that dies is noticed at once)")
        int timeoutS,
        @Key(def = "25", min = 1, max = 4096, help = "data parallel: gradients are all-reduced in flattened buckets of at most this many MiB")
        int bucketMb) {

    public static DistConfig defaults() {
        return Schema.defaults(DistConfig.class);
    }
}
