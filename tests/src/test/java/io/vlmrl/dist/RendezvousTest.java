package io.vlmrl.dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Joining a run: the launch variables, and the ways a rank fails to join (each naming the address). */
class RendezvousTest {

    @TempDir
    Path dir;

    static DistConfig timeout(int seconds) {
        return new DistConfig(seconds, 60, 25);
    }

    static int closedPort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return probe.getLocalPort();
        }
    }

    @Test
    void theLaunchVariablesAreReadAsTorchrunSetsThem() {
        assertFalse(LaunchEnvironment.of(Map.of()).distributed(), "no WORLD_SIZE: one process");
        assertFalse(LaunchEnvironment.of(Map.of("WORLD_SIZE", "1", "RANK", "0")).distributed());
        LaunchEnvironment e = LaunchEnvironment.of(Map.of("RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "1",
                "MASTER_ADDR", "10.0.0.7", "MASTER_PORT", "29500"));
        assertEquals(new LaunchEnvironment(3, 4, 1, "10.0.0.7", 29500), e);
        assertEquals("10.0.0.7:29500", e.address());
        assertFalse(e.loopback());
        assertTrue(new LaunchEnvironment(0, 2, 0, "127.0.0.1", 1234).loopback());
        assertEquals(2, LaunchEnvironment.of(Map.of("RANK", "2", "WORLD_SIZE", "3", "MASTER_ADDR", "h", "MASTER_PORT", "1"))
                .localRank(), "LOCAL_RANK defaults to RANK");
    }

    @Test
    void malformedLaunchVariablesAreRefusedNamingTheVariable() {
        assertRefused(Map.of("WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1"), "RANK");
        assertRefused(Map.of("RANK", "2", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1"), "RANK: expected an integer in [0, 1]");
        assertRefused(Map.of("RANK", "0", "WORLD_SIZE", "two"), "WORLD_SIZE: expected an integer, got 'two'");
        assertRefused(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_PORT", "1"), "MASTER_ADDR");
        assertRefused(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "70000"), "MASTER_PORT: expected a port");
        assertRefused(Map.of("RANK", "1"), "WORLD_SIZE");
    }

    private static void assertRefused(Map<String, String> env, String expected) {
        var e = assertThrows(IllegalArgumentException.class, () -> LaunchEnvironment.of(env));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void aPortInUseFailsAtOnceNamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            var e = assertThrows(RendezvousException.class,
                    () -> Collectives.join(new LaunchEnvironment(0, 2, 0, "127.0.0.1", port), timeout(30)));
            assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void anAddressOfAnotherMachineCannotBeServed() {
        // 203.0.113.1 (TEST-NET-3) is nobody's address: rank 0 cannot listen on it.
        var e = assertThrows(RendezvousException.class,
                () -> Collectives.join(new LaunchEnvironment(0, 2, 0, "203.0.113.1", 29512), timeout(30)));
        assertTrue(e.getMessage().contains("203.0.113.1:29512") && e.getMessage().contains("MASTER_ADDR"), e.getMessage());
    }

    @Test
    void aStoreNobodyServesFailsWithinTheTimeoutNamingTheAddress() throws Exception {
        int port = closedPort();
        var e = assertThrows(RendezvousException.class,
                () -> Collectives.join(new LaunchEnvironment(1, 2, 1, "127.0.0.1", port), timeout(2)));
        assertTrue(e.getMessage().contains("rank 1 cannot reach the rendezvous store at 127.0.0.1:" + port)
                && e.getMessage().contains("dist.rendezvous_timeout_s"), e.getMessage());
    }

    @Test
    void rankZeroAloneFailsWithinTheTimeoutSayingTheOthersDidNotJoin() throws Exception {
        int port = closedPort();
        var e = assertThrows(RendezvousException.class,
                () -> Collectives.join(new LaunchEnvironment(0, 2, 0, "127.0.0.1", port), timeout(2)));
        assertTrue(e.getMessage().contains("not every rank joined") && e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void theCommandLineReportsABadAddressInOneLineWithExitCode2() throws Exception {
        int port = closedPort();
        Path log = dir.resolve("rank1.log");
        Process p = ChildJvm.start(log, Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                "MASTER_PORT", "" + port), List.of("sft", "--out", dir.resolve("model").toString(), "--quiet",
                "--set", "dist.rendezvous_timeout_s=2", "--set", "sft.steps=1"));
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), Files.readString(log));
        String out = Files.readString(log);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("error: rank 1 cannot reach the rendezvous store at 127.0.0.1:" + port), out);
    }

    @Test
    void underATorchrunAgentEveryRankConnectsToTheAgentsStore() throws Exception {
        int port = closedPort();
        int fd = io.vlmrl.kernels.NativeKernels.vlmrl_tcp_listen("127.0.0.1", port, 16);
        assertTrue(fd >= 0, io.vlmrl.kernels.NativeKernels.vlmrl_last_error().getString());
        org.bytedeco.pytorch.TCPStoreOptions options = new org.bytedeco.pytorch.TCPStoreOptions();
        options.port((short) port);
        options.isServer(true);
        options.waitWorkers(false);
        options.masterListenFd(new org.bytedeco.pytorch.IntOptional(fd));
        // The agent's store (torchrun's elastic agent serves it; here the test does), holding a stale key of attempt 0.
        try (org.bytedeco.pytorch.TCPStore agent = new org.bytedeco.pytorch.TCPStore("127.0.0.1", options)) {
            agent.set("vlmrl/0/failed/1", new org.bytedeco.pytorch.ByteVector("attempt 0 failed".getBytes()));
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                List<java.util.concurrent.Future<Double>> sums = new java.util.ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    int rank = r;
                    sums.add(pool.submit(() -> {
                        try (Collectives world = Collectives.join(new LaunchEnvironment(rank, 2, rank, "127.0.0.1", port, true, 1),
                                timeout(30))) {
                            return world.sum("a test sum", new double[] {rank + 1})[0];
                        }
                    }));
                }
                for (var f : sums) assertEquals(3.0, f.get(120, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }
            assertTrue(agent.check(new org.bytedeco.pytorch.StringVector("vlmrl/1/heartbeat/0")), "attempt 1's keys are its own");
        }
        assertTrue(LaunchEnvironment.of(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1",
                "TORCHELASTIC_USE_AGENT_STORE", "True", "TORCHELASTIC_RESTART_COUNT", "2")).agentStore());
    }

    @Test
    void aLoopbackRendezvousIsReachableOnLoopbackOnly() throws Exception {
        java.net.InetAddress external = null;
        for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            for (var a : java.util.Collections.list(nic.getInetAddresses())) {
                if (!a.isLoopbackAddress() && a instanceof java.net.Inet4Address) external = a;
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "this machine has no address besides loopback");
        java.net.InetAddress other = external;
        int port = closedPort();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<Boolean>> reachable = new java.util.ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                reachable.add(pool.submit(() -> {
                    try (Collectives world = Collectives.join(new LaunchEnvironment(rank, 2, rank, "127.0.0.1", port), timeout(30))) {
                        boolean onLoopback = canConnect(InetAddress.getByName("127.0.0.1"), port);
                        boolean onOther = canConnect(other, port);
                        world.barrier("a test barrier");
                        return onLoopback && !onOther;
                    }
                }));
            }
            for (var f : reachable) assertTrue(f.get(120, TimeUnit.SECONDS), "the store answers on 127.0.0.1:" + port + " but not on " + other);
        } finally {
            pool.shutdownNow();
        }
    }

    private static boolean canConnect(InetAddress address, int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress(address, port), 2000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void ranksSumCountNumbersAndTensorsAndCopyRankZerosWeights() throws Exception {
        List<double[]> out = RanksInThreads.run(2, timeout(30), (rank, world) -> {
            double[] sum = world.sum("a test sum", new double[] {rank + 1, 10 * rank});
            double[] max = world.max("a test max", new double[] {rank});
            long[] counts = world.sum("a test count", new long[] {rank, 1});
            try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                org.bytedeco.pytorch.Tensor t = org.bytedeco.pytorch.global.torch.ones(3).mul(new org.bytedeco.pytorch.Scalar(rank + 5));
                world.broadcastFromRankZero("a test broadcast", List.of(t));
                return new double[] {sum[0], sum[1], max[0], counts[0], counts[1], t.sum().item_double()};
            }
        });
        for (double[] r : out) assertEquals(List.of(3.0, 10.0, 1.0, 1.0, 2.0, 15.0), java.util.Arrays.stream(r).boxed().toList());
    }
}
