package io.vlmrl.dist;

import io.vlmrl.kernels.NativeKernels;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.IntOptional;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The ranks of a data-parallel run, met: LibTorch's c10d rendezvous store ({@code TCPStore}, served
 * by rank 0 at {@code MASTER_ADDR:MASTER_PORT}), a Gloo process group for CPU tensors, an NCCL one
 * for CUDA tensors (made when first needed), and a heartbeat per rank in the store, which is how a
 * failed collective is turned into an error naming the rank that stopped ({@link #lost}).
 *
 * <p><b>Exposure.</b> The store listens on {@code MASTER_ADDR} only, not on every interface (it is
 * handed a socket bound to that address, {@link NativeKernels#vlmrl_tcp_listen}); with a loopback
 * {@code MASTER_ADDR} (what {@code --nproc} sets) the store and the Gloo connections stay on
 * loopback. c10d has no authentication: whoever reaches the port can join or poison the run, so
 * ranks of several machines must talk over a private network.
 *
 * <p><b>Native memory.</b> The store clients, the process groups and their connections are owned by
 * this object and freed by {@link #close()}.
 */
public final class ProcessGroups implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessGroups.class);
    private static final String ROOT = "vlmrl/";
    private static final long HEARTBEAT_MS = 1000;
    /** How long a rank's heartbeat must stand still to call it stopped. */
    private static final long STALE_MS = 3500;
    /** How long rank 0, the store's host, keeps the store up after a failure, so the others can name the cause. */
    private static final long LINGER_MS = 5000;

    private final LaunchEnvironment env;
    private final DistConfig config;
    /** The prefix of this attempt's keys in the store. */
    private final String key;
    private final TCPStore store;
    private final Store monitor;
    private final PrefixStore glooStore;
    private final ProcessGroupGloo gloo;
    private final Object monitorLock = new Object();
    private final Thread heartbeat;
    private PrefixStore ncclStore;
    private Backend nccl;
    private volatile boolean closing;
    private boolean failed;

    private ProcessGroups(LaunchEnvironment env, DistConfig config, TCPStore store, Store monitor, PrefixStore glooStore,
                          ProcessGroupGloo gloo) {
        this.env = env;
        this.config = config;
        this.key = keyPrefix(env);
        this.store = store;
        this.monitor = monitor;
        this.glooStore = glooStore;
        this.gloo = gloo;
        this.heartbeat = new Thread(this::beat, "vlmrl-heartbeat-rank-" + env.rank());
        heartbeat.setDaemon(true);
        heartbeat.start();
    }

    /**
     * Meets the other ranks: rank 0 serves the store and waits for every rank, the others connect
     * to it; then the Gloo group connects every pair of ranks. Every wait is bounded by
     * {@code dist.rendezvous_timeout_s}.
     *
     * @throws RendezvousException naming the address when the store cannot be served or reached, or
     *                             not every rank joined in time
     */
    public static ProcessGroups join(LaunchEnvironment env, DistConfig config) {
        if (!env.distributed()) {
            throw new IllegalArgumentException("env: expected more than one rank (WORLD_SIZE > 1), got " + env.worldSize());
        }
        String where = env.address() + " (" + LaunchEnvironment.MASTER_ADDR + ", " + LaunchEnvironment.MASTER_PORT + ")";
        long rendezvousMs = config.rendezvousTimeoutS() * 1000L;
        TCPStoreOptions options = new TCPStoreOptions();
        options.port((short) env.masterPort());
        boolean serve = env.rank() == 0 && !env.agentStore();
        options.isServer(serve);
        options.numWorkers(new SizeTPointer(1).put(env.worldSize()));
        options.waitWorkers(true);
        options.timeout(new Milliseconds(rendezvousMs));
        if (serve) {
            int fd = NativeKernels.vlmrl_tcp_listen(env.masterAddr(), env.masterPort(), 128);
            if (fd < 0) {
                throw new RendezvousException("rank 0 cannot serve the rendezvous store at " + where + ": "
                        + NativeKernels.vlmrl_last_error().getString() + " (a port in use, or an address that is not this machine's)",
                        null);
            }
            options.masterListenFd(new IntOptional(fd));
        }
        TCPStore store;
        try {
            store = new TCPStore(env.masterAddr(), options);
        } catch (RuntimeException e) {
            throw new RendezvousException(serve
                    ? "rank 0: not every rank joined the rendezvous at " + where + " within " + config.rendezvousTimeoutS()
                            + " s (dist.rendezvous_timeout_s; " + env.worldSize() + " ranks expected): " + firstLine(e)
                    : "rank " + env.rank() + " cannot reach the rendezvous store at " + where + " within "
                            + config.rendezvousTimeoutS() + " s (dist.rendezvous_timeout_s): " + firstLine(e), e);
        }
        Store monitor = null;
        PrefixStore glooStore = null;
        ProcessGroupGloo gloo = null;
        try {
            monitor = store.clone();
            ProcessGroupGloo.Options glooOptions = new ProcessGroupGloo.Options(new Milliseconds(rendezvousMs));
            glooOptions.devices(new GlooDeviceVector(glooDevice(env)));
            glooStore = new PrefixStore(keyPrefix(env) + "gloo", store);
            gloo = new ProcessGroupGloo(glooStore, env.rank(), env.worldSize(), glooOptions);
            gloo.setTimeout(new Milliseconds(config.timeoutS() * 1000L));
            store.setTimeout(new Milliseconds(config.timeoutS() * 1000L));
        } catch (RuntimeException e) {
            if (gloo != null) gloo.close();
            if (glooStore != null) glooStore.close();
            if (monitor != null) monitor.close();
            store.close();
            throw new RendezvousException("rank " + env.rank() + ": the ranks met at " + where
                    + " but could not connect to each other within " + config.rendezvousTimeoutS()
                    + " s (dist.rendezvous_timeout_s; a firewall between the machines, or GLOO_SOCKET_IFNAME naming the wrong interface?): "
                    + firstLine(e), e);
        }
        LOG.info("rank {} of {} joined the run at {}", env.rank(), env.worldSize(), env.address());
        return new ProcessGroups(env, config, store, monitor, glooStore, gloo);
    }

    /**
     * Gloo's interface: the loopback address when every rank runs on this machine, else the one
     * {@code GLOO_SOCKET_IFNAME} names, else the address this machine's host name resolves to.
     */
    private static org.bytedeco.pytorch.gloo.Device glooDevice(LaunchEnvironment env) {
        if (env.loopback()) return ProcessGroupGloo.createDeviceForHostname(env.masterAddr());
        String iface = System.getenv("GLOO_SOCKET_IFNAME");
        if (iface != null && !iface.isBlank()) return ProcessGroupGloo.createDeviceForInterface(iface.trim());
        return ProcessGroupGloo.createDefaultDevice();
    }

    public int rank() {
        return env.rank();
    }

    public int worldSize() {
        return env.worldSize();
    }

    public LaunchEnvironment environment() {
        return env;
    }

    /** The group for tensors on {@code device}: Gloo on the CPU, NCCL on a GPU (created on first use). */
    synchronized Backend backendFor(Device device) {
        if (device == null || !device.is_cuda()) return gloo;
        if (nccl == null) {
            // Loaded only here: CPU builds of LibTorch have no NCCL.
            org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options options = new org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options();
            options.timeout(new Milliseconds(config.timeoutS() * 1000L));
            ncclStore = new PrefixStore(key + "nccl", store);
            nccl = new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(ncclStore, env.rank(),
                    env.worldSize(), options);
        }
        return nccl;
    }

    /** Each second, this rank's counter in the store goes up; it stops when the process stops. */
    private void beat() {
        String key = heartbeatKey(env.rank());
        while (!closing) {
            try {
                synchronized (monitorLock) {
                    monitor.add(key, 1);
                }
                Thread.sleep(HEARTBEAT_MS);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                return; // the store is gone (rank 0 stopped); lost() says so when a collective fails
            }
        }
    }

    /**
     * Tells the other ranks that this rank stops because of {@code cause} (its own error), so that
     * their failing collectives name it. Rank 0 then keeps the store up a few seconds after closing
     * its connections.
     */
    public void reportFailure(Throwable cause) {
        failed = true;
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof RankLostException) return; // another rank's failure, not this rank's own
        }
        String message = cause.getMessage() == null ? cause.getClass().getName() : firstLine(cause);
        try {
            synchronized (monitorLock) {
                monitor.set(failedKey(env.rank()), new ByteVector(message.getBytes(StandardCharsets.UTF_8)));
            }
        } catch (RuntimeException e) {
            LOG.debug("could not report the failure to the other ranks: {}", e.getMessage());
        }
    }

    /**
     * The error to throw when a collective failed with {@code cause} while this rank was doing
     * {@code what}: the rank that reported a failure of its own, else the rank whose heartbeat
     * stopped (watched for a few seconds), else the store's host when the store is gone, else a
     * timeout with every rank alive.
     */
    RankLostException lost(String what, Throwable cause) {
        failed = true;
        String during = " while " + what + " (" + firstLine(cause) + ")";
        int world = env.worldSize();
        try {
            long[] before = heartbeats();
            long deadline = System.currentTimeMillis() + STALE_MS;
            while (true) {
                for (int r = 0; r < world; r++) {
                    String reason = failure(r);
                    if (reason != null && r != env.rank()) {
                        return new RankLostException(r, "rank " + r + " of " + world + " failed: " + reason
                                + "; this rank stopped" + during, cause);
                    }
                }
                if (System.currentTimeMillis() >= deadline) break;
                Thread.sleep(250);
            }
            long[] after = heartbeats();
            List<Integer> stale = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                if (r != env.rank() && after[r] == before[r]) stale.add(r);
            }
            if (!stale.isEmpty()) {
                return new RankLostException(stale.get(0), (stale.size() == 1 ? "rank " + stale.get(0) : "ranks " + stale)
                        + " of " + world + " stopped (no heartbeat for " + STALE_MS / 1000.0 + " s: killed, crashed, or its machine "
                        + "is unreachable)" + during, cause);
            }
            return new RankLostException(-1, "no answer from the other ranks within dist.timeout_s = " + config.timeoutS()
                    + " s" + during + "; every rank's heartbeat is alive, so one is stuck or the ranks run different settings", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new RankLostException(-1, "interrupted" + during, cause);
        } catch (RuntimeException storeGone) {
            if (env.agentStore()) {
                return new RankLostException(-1, "the launcher's rendezvous store at " + env.address() + " is gone" + during, cause);
            }
            return new RankLostException(0, "rank 0 of " + world + " (the host of the rendezvous store at " + env.address()
                    + ") stopped" + during, cause);
        }
    }

    private long[] heartbeats() {
        long[] counts = new long[env.worldSize()];
        synchronized (monitorLock) {
            for (int r = 0; r < counts.length; r++) counts[r] = monitor.add(heartbeatKey(r), 0);
        }
        return counts;
    }

    /** The failure rank {@code r} reported, or null. */
    private String failure(int r) {
        synchronized (monitorLock) {
            String key = failedKey(r);
            if (!monitor.check(new StringVector(key))) return null;
            return new String(monitor.get(key).get(), StandardCharsets.UTF_8);
        }
    }

    private static String keyPrefix(LaunchEnvironment env) {
        return ROOT + env.attempt() + "/";
    }

    private String heartbeatKey(int rank) {
        return key + "heartbeat/" + rank;
    }

    private String failedKey(int rank) {
        return key + "failed/" + rank;
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getName() : e.getMessage().strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /**
     * Closes the connections and the store. After a failure, rank 0 closes its connections first
     * (so the others notice at once) and keeps the store up a few seconds, for them to read why.
     */
    @Override
    public void close() {
        closing = true;
        heartbeat.interrupt();
        try {
            heartbeat.join(2 * HEARTBEAT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (nccl != null) {
                nccl.close();
                ncclStore.close();
            }
        }
        gloo.close();
        glooStore.close();
        if (failed && env.rank() == 0 && !env.agentStore()) {
            try {
                Thread.sleep(LINGER_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // A heartbeat still inside a store call (a store that stopped answering) keeps its client: freeing it
        // under the call would crash the process, while leaving it costs a socket until the process exits.
        if (!heartbeat.isAlive()) monitor.close();
        store.close();
    }
}
