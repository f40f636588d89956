package io.vlmrl.dist;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code --nproc N} on one machine: starts N processes of the same command as ranks 0..N-1, with
 * the variables a torchrun-style launcher sets ({@code RANK}, {@code LOCAL_RANK},
 * {@code WORLD_SIZE}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR=127.0.0.1} and a free
 * {@code MASTER_PORT}: the rendezvous store and every connection stay on loopback), forwards their
 * output with a {@code [rank k] } prefix, and waits for them.
 *
 * <p>When a rank exits with an error the others are given {@link #GRACE_MS} to stop by themselves
 * (they notice the lost rank and say which it was), then they are killed. The launcher's exit code
 * is the first non-zero exit code of a rank, 0 when every rank succeeded. The ranks' standard
 * input is a pipe from the launcher that is never written: a rank started with
 * {@code -Dvlmrl.relaunched=true} halts when it closes, so killing the launcher (even with
 * {@code kill -9}) ends every rank.
 */
public final class Launcher {
    /** How long the other ranks may take to stop by themselves after one failed. */
    public static final long GRACE_MS = 30_000;
    public static final String LOOPBACK = "127.0.0.1";

    private Launcher() {
    }

    /**
     * Runs {@code nproc} ranks of {@code command} and returns the exit code described above.
     *
     * @param command     the command line of one rank (the same for every rank)
     * @param environment variables added to every rank's environment (before the rank's own)
     * @param out         where the ranks' standard output goes, prefixed
     * @param err         where their standard error goes, prefixed, and the launcher's own messages
     */
    public static int run(int nproc, List<String> command, Map<String, String> environment, PrintStream out, PrintStream err)
            throws IOException, InterruptedException {
        if (nproc < 1) throw new IllegalArgumentException("--nproc: expected an integer >= 1, got " + nproc);
        int port = freeLoopbackPort();
        List<Process> ranks = new ArrayList<>();
        List<OutputStream> stdins = new ArrayList<>();
        List<Thread> copiers = new ArrayList<>();
        Thread killer = new Thread(() -> ranks.forEach(Process::destroy), "vlmrl-launcher-stop");
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder builder = new ProcessBuilder(command);
                Map<String, String> env = builder.environment();
                env.putAll(environment);
                env.put(LaunchEnvironment.RANK, Integer.toString(r));
                env.put(LaunchEnvironment.LOCAL_RANK, Integer.toString(r));
                env.put(LaunchEnvironment.WORLD_SIZE, Integer.toString(nproc));
                env.put("LOCAL_WORLD_SIZE", Integer.toString(nproc));
                env.put(LaunchEnvironment.MASTER_ADDR, LOOPBACK);
                env.put(LaunchEnvironment.MASTER_PORT, Integer.toString(port));
                Process p = builder.start();
                ranks.add(p);
                stdins.add(p.getOutputStream()); // held open, never written: see the class comment
                copiers.add(copy(new RankOutput(p.getInputStream(), out, r), r, "out"));
                copiers.add(copy(new RankOutput(p.getErrorStream(), err, r), r, "err"));
            }
            int code = await(ranks, err);
            for (Thread t : copiers) t.join();
            return code;
        } finally {
            ranks.forEach(Process::destroyForcibly);
            for (OutputStream s : stdins) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // the rank is gone
                }
            }
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running already
            }
        }
    }

    private static Thread copy(RankOutput copier, int rank, String stream) {
        Thread t = new Thread(copier, "vlmrl-rank-" + rank + "-" + stream);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits for every rank; after the first failure, kills what still runs {@link #GRACE_MS} later. */
    private static int await(List<Process> ranks, PrintStream err) throws InterruptedException {
        int first = 0;
        long failedAt = -1;
        boolean killed = false;
        boolean[] done = new boolean[ranks.size()];
        int remaining = ranks.size();
        while (remaining > 0) {
            for (int r = 0; r < ranks.size(); r++) {
                Process p = ranks.get(r);
                if (done[r] || p.isAlive()) continue;
                done[r] = true;
                remaining--;
                int code = p.exitValue();
                if (code != 0 && first == 0) {
                    first = code;
                    failedAt = System.nanoTime();
                    if (remaining > 0) {
                        err.println("[launcher] rank " + r + " exited with code " + code + "; the other ranks have "
                                + GRACE_MS / 1000 + " s to stop");
                    }
                }
            }
            if (failedAt >= 0 && !killed && remaining > 0 && System.nanoTime() - failedAt > GRACE_MS * 1_000_000L) {
                for (int r = 0; r < ranks.size(); r++) {
                    if (!done[r]) {
                        err.println("[launcher] killing rank " + r + ", still running " + GRACE_MS / 1000 + " s after a rank failed");
                        ranks.get(r).destroyForcibly();
                    }
                }
                killed = true;
            }
            Thread.sleep(50);
        }
        return first;
    }

    /** A port nobody listens on now on 127.0.0.1 (rank 0 binds it a moment later). */
    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return probe.getLocalPort();
        }
    }
}
