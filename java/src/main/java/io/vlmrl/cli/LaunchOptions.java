package io.vlmrl.cli;

import io.vlmrl.dist.LaunchEnvironment;
import io.vlmrl.dist.Launcher;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --nproc N}: data-parallel training on this machine. The command starts N copies of
 * itself (without {@code --nproc}) as ranks 0..N-1 over loopback and waits for them
 * ({@link Launcher}); each rank then reads its place from the environment, as it would under
 * torchrun, Slurm or Kubernetes ({@link LaunchEnvironment}).
 */
final class LaunchOptions {

    @Option(names = "--nproc", paramLabel = "N", defaultValue = "1",
            description = "data parallel on this machine: N ranks (processes) over loopback, threads=T each (default 1: one process)")
    int nproc = 1;

    /**
     * With {@code --nproc} above 1 in a process that is not a rank already: runs the ranks and
     * returns the exit code (the first failing rank's, else 0); otherwise empty, and the caller
     * runs the job itself (as one process, or as the rank the environment names).
     */
    Optional<Integer> launchIfAsked(CommandSpec spec) throws IOException, InterruptedException {
        if (nproc < 1) throw new IllegalArgumentException("--nproc: expected an integer >= 1, got " + nproc);
        if (nproc == 1) return Optional.empty();
        if (System.getenv(LaunchEnvironment.RANK) != null || System.getenv(LaunchEnvironment.WORLD_SIZE) != null) {
            throw new IllegalArgumentException("--nproc: this process is already a rank of a launch (" + LaunchEnvironment.RANK + "="
                    + System.getenv(LaunchEnvironment.RANK) + ", " + LaunchEnvironment.WORLD_SIZE + "="
                    + System.getenv(LaunchEnvironment.WORLD_SIZE) + "); drop --nproc or the variables");
        }
        List<String> command = OpenMpRelaunch.childCommand();
        command.addAll(withoutNproc(spec.commandLine().getParseResult().originalArgs(), spec.name()));
        Map<String, String> env = System.getenv(OpenMpRelaunch.VARIABLE) == null
                ? Map.of(OpenMpRelaunch.VARIABLE, "passive") : Map.of();
        return Optional.of(Launcher.run(nproc, command, env, System.out, System.err));
    }

    /** The command line without {@code --nproc N} / {@code --nproc=N}, starting with the subcommand's name. */
    static List<String> withoutNproc(List<String> original, String command) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < original.size(); i++) {
            String a = original.get(i);
            if (a.equals("--nproc")) {
                i++;
            } else if (!a.startsWith("--nproc=")) {
                out.add(a);
            }
        }
        // picocli gives the whole command line, subcommand first; a subcommand's own arguments get its name in front.
        if (out.isEmpty() || !out.get(0).equals(command)) out.add(0, command);
        return out;
    }
}
