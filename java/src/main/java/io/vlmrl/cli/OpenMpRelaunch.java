package io.vlmrl.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs the CLI with {@code OMP_WAIT_POLICY=passive} unless the user chose a policy.
 *
 * <p>Why: LibTorch and the native kernels share one libgomp, which reads the policy once, when it
 * loads, so it cannot be changed from Java afterwards. Its default spins waiting threads; on a
 * 2-core machine, as soon as any other process wants a core, every parallel region then waits a
 * scheduler slice for a descheduled peer. Measured on 2 cores with one other busy process: an RL
 * step of the default {@code train} took 20-22 s with the default policy and 1.3-1.8 s with
 * {@code passive}. So the CLI relaunches its own JVM once with the variable set.
 *
 * <p>The child ends the moment its parent does (even by {@code kill -9}), so a killed run never
 * keeps writing: its standard input is a pipe from the parent, which the operating system closes
 * when the parent dies; a thread of the child reads it and halts the child at end of input.
 */
final class OpenMpRelaunch {
    static final String VARIABLE = "OMP_WAIT_POLICY";
    /** Set on the child's command line, so it never relaunches again. */
    static final String CHILD_PROPERTY = "vlmrl.relaunched";

    private OpenMpRelaunch() {
    }

    /** The child's exit code when this JVM relaunched itself, or empty when it should run the CLI itself. */
    static Optional<Integer> relaunchIfNeeded(String[] args) throws IOException, InterruptedException {
        if (Boolean.getBoolean(CHILD_PROPERTY)) {
            exitWithParent();
            return Optional.empty();
        }
        if (System.getenv(VARIABLE) != null) return Optional.empty();
        List<String> command = childCommand();
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT); // stdin stays a pipe: see exitWithParent
        builder.environment().put(VARIABLE, "passive");
        Process child = builder.start();
        PARENT_PIPE = child.getOutputStream(); // held open (never written) for the child's life
        // Ctrl-C / SIGTERM on the parent end the child too.
        Runtime.getRuntime().addShutdownHook(new Thread(child::destroy));
        return Optional.of(child.waitFor());
    }

    /**
     * The command line of a child JVM running this CLI (its arguments to be appended): the same
     * JVM, JVM options and class path, marked as a child, so it never relaunches itself and halts
     * when its standard input (a pipe from its parent) closes. The {@code --nproc} launcher starts
     * its ranks with it too.
     */
    static List<String> childCommand() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-D" + CHILD_PROPERTY + "=")) command.add(option);
        }
        command.add("-D" + CHILD_PROPERTY + "=true");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        return command;
    }

    /** The child's standard input; kept reachable so that it is not closed while the child runs. */
    private static java.io.OutputStream PARENT_PIPE;

    /** Halts this (child) JVM as soon as its standard input, the pipe from the parent, ends. */
    private static void exitWithParent() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the parent never writes; any byte is ignored
                }
            } catch (java.io.IOException ignored) {
                // a broken pipe is the parent's death too
            }
            Runtime.getRuntime().halt(137);
        }, "vlmrl-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
