package io.vlmrl.cli;

import io.vlmrl.run.JobFailedException;
import picocli.CommandLine;

import java.nio.file.Path;
import picocli.CommandLine.Command;

/** {@code java -jar vlmrl.jar <train|sft|eval|score|generate|compare|config|task> ...}. */
@Command(name = "vlmrl", mixinStandardHelpOptions = true, version = "vlmrl 0.1.0",
        description = "RL alignment of small vision-language models on LibTorch (GRPO, DAPO, ACPO, APO).",
        subcommands = {TrainCommand.class, SftCommand.class, EvalCommand.class, ScoreCommand.class, GenerateCommand.class,
                CompareCommand.class, ConfigCommand.class, TaskCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) throws Exception {
        java.util.Optional<Integer> relaunched = OpenMpRelaunch.relaunchIfNeeded(args);
        System.exit(relaunched.isPresent() ? relaunched.get() : execute(args));
    }

    /**
     * Runs the command line and returns the exit code: 0 on success, 2 for a bad argument, setting or
     * file (one line naming it), 1 for any other failure (one line naming the cause and the log file
     * that holds the stack trace).
     */
    public static int execute(String... args) {
        System.setProperty("java.awt.headless", "true");
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException) {
                // A bad setting, file or argument: one line naming it.
                commandLine.getErr().println("error: " + e.getMessage());
                return 2;
            }
            // Any other failure: one line naming the cause; the stack trace goes to a log file.
            JobFailedException failure = e instanceof JobFailedException j ? j
                    : JobFailedException.recorded(Path.of(System.getProperty("java.io.tmpdir"),
                            "vlmrl-" + System.currentTimeMillis() + ".log"), e);
            commandLine.getErr().println("error: " + failure.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: train, sft, eval, score, generate, compare, config or task");
    }
}
