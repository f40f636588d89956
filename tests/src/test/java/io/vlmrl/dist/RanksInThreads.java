package io.vlmrl.dist;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * N ranks of a data-parallel run as threads of this JVM (each with its own store client and Gloo
 * group over loopback), for tests that compare what the ranks compute with one process.
 */
public final class RanksInThreads {

    private RanksInThreads() {
    }

    /** Runs {@code body(rank, world)} on {@code n} ranks and returns their results by rank. */
    public static <T> List<T> run(int n, DistConfig config, BiFunction<Integer, Collectives, T> body) throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (Collectives world = Collectives.join(new LaunchEnvironment(rank, n, rank, "127.0.0.1", port), config)) {
                        return body.apply(rank, world);
                    }
                }));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) results.add(f.get(300, TimeUnit.SECONDS));
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
