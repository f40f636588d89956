package io.vlmrl.dist;

import io.vlmrl.cli.Main;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts the CLI in a JVM of its own with the tests' class path (as a user or a launcher would run it). */
final class ChildJvm {

    private ChildJvm() {
    }

    /**
     * @param output where the process's standard output and error go
     * @param env    variables to add (RANK, WORLD_SIZE, ...); the tests' own launch variables are removed first
     */
    static Process start(Path output, Map<String, String> env, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        Map<String, String> e = builder.environment();
        for (String v : List.of("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")) e.remove(v);
        e.put("OMP_WAIT_POLICY", "passive"); // no relaunch: this process is the one the test watches
        e.putAll(env);
        return builder.start();
    }
}
