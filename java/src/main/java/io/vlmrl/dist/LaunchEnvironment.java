package io.vlmrl.dist;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;

/**
 * Which rank this process is and where the ranks meet, as torchrun, Slurm {@code srun} wrappers
 * and Kubernetes jobs pass it: the variables {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code MASTER_ADDR} and {@code MASTER_PORT}. Without {@code WORLD_SIZE} (or with 1) the process
 * is a run of its own and nothing distributed is created. Under torchrun ({@code --no-python}),
 * whose agent already serves the store at {@code MASTER_ADDR:MASTER_PORT}
 * ({@code TORCHELASTIC_USE_AGENT_STORE=True}), rank 0 connects to it like the others, and the
 * keys of each restart ({@code TORCHELASTIC_RESTART_COUNT}) are kept apart.
 *
 * @param rank       this process's rank, in [0, worldSize)
 * @param worldSize  the number of ranks
 * @param localRank  this process's rank on its machine (picks its GPU)
 * @param masterAddr the address of rank 0, where the rendezvous store listens (null for one process)
 * @param masterPort the store's port (0 for one process)
 * @param agentStore whether a launcher's agent serves the store (rank 0 then does not)
 * @param attempt    the launcher's restart count (0 without one): the store keys of this attempt
 */
public record LaunchEnvironment(int rank, int worldSize, int localRank, String masterAddr, int masterPort,
                                boolean agentStore, int attempt) {

    public static final String RANK = "RANK";
    public static final String WORLD_SIZE = "WORLD_SIZE";
    public static final String LOCAL_RANK = "LOCAL_RANK";
    public static final String MASTER_ADDR = "MASTER_ADDR";
    public static final String MASTER_PORT = "MASTER_PORT";
    public static final String AGENT_STORE = "TORCHELASTIC_USE_AGENT_STORE";
    public static final String RESTART_COUNT = "TORCHELASTIC_RESTART_COUNT";

    /** Ranks that meet at a store rank 0 serves (no launcher agent). */
    public LaunchEnvironment(int rank, int worldSize, int localRank, String masterAddr, int masterPort) {
        this(rank, worldSize, localRank, masterAddr, masterPort, false, 0);
    }

    public LaunchEnvironment {
        if (worldSize < 1) throw new IllegalArgumentException(WORLD_SIZE + ": expected an integer >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException(RANK + ": expected an integer in [0, " + (worldSize - 1) + "] (" + WORLD_SIZE
                    + " " + worldSize + "), got " + rank);
        }
        if (attempt < 0) throw new IllegalArgumentException(RESTART_COUNT + ": expected an integer >= 0, got " + attempt);
        if (localRank < 0) throw new IllegalArgumentException(LOCAL_RANK + ": expected an integer >= 0, got " + localRank);
        if (worldSize > 1) {
            if (masterAddr == null || masterAddr.isBlank()) {
                throw new IllegalArgumentException(MASTER_ADDR + ": expected the address of rank 0 (" + WORLD_SIZE + " "
                        + worldSize + "), got none");
            }
            if (masterPort < 1 || masterPort > 65535) {
                throw new IllegalArgumentException(MASTER_PORT + ": expected a port in [1, 65535], got " + masterPort);
            }
        }
    }

    /** One process, no rendezvous. */
    public static LaunchEnvironment single() {
        return new LaunchEnvironment(0, 1, 0, null, 0);
    }

    /** This process's environment variables. */
    public static LaunchEnvironment fromSystem() {
        return of(System.getenv());
    }

    /**
     * Reads the variables from {@code env}.
     *
     * @throws IllegalArgumentException naming the variable that is missing or malformed
     */
    public static LaunchEnvironment of(Map<String, String> env) {
        String world = env.get(WORLD_SIZE);
        if (world == null || world.isBlank()) {
            if (env.get(RANK) != null) {
                throw new IllegalArgumentException(WORLD_SIZE + ": expected the number of ranks next to " + RANK + "="
                        + env.get(RANK) + ", got none");
            }
            return single();
        }
        int worldSize = integer(env, WORLD_SIZE, world);
        if (worldSize == 1) return single();
        String rankText = env.get(RANK);
        if (rankText == null) {
            throw new IllegalArgumentException(RANK + ": expected this process's rank in [0, " + (worldSize - 1) + "] ("
                    + WORLD_SIZE + " " + worldSize + "), got none");
        }
        int rank = integer(env, RANK, rankText);
        String local = env.get(LOCAL_RANK);
        int localRank = local == null ? rank : integer(env, LOCAL_RANK, local);
        String port = env.get(MASTER_PORT);
        String restarts = env.get(RESTART_COUNT);
        return new LaunchEnvironment(rank, worldSize, localRank, env.get(MASTER_ADDR),
                port == null ? 0 : integer(env, MASTER_PORT, port), "true".equalsIgnoreCase(env.get(AGENT_STORE)),
                restarts == null ? 0 : integer(env, RESTART_COUNT, restarts));
    }

    private static int integer(Map<String, String> env, String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": expected an integer, got '" + value + "'");
        }
    }

    /** More than one rank. */
    public boolean distributed() {
        return worldSize > 1;
    }

    /** {@code MASTER_ADDR:MASTER_PORT}. */
    public String address() {
        return (masterAddr != null && masterAddr.contains(":") ? "[" + masterAddr + "]" : masterAddr) + ":" + masterPort;
    }

    /**
     * Whether the ranks meet over this machine's loopback interface (MASTER_ADDR 127.0.0.1,
     * localhost or ::1): all ranks then run here, and the collectives stay on loopback too.
     */
    public boolean loopback() {
        if (masterAddr == null) return true;
        try {
            return InetAddress.getByName(masterAddr).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
