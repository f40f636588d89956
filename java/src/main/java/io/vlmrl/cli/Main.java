package io.vlmrl.cli;

import picocli.CommandLine;
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

    /** Runs the command line and returns the exit code (2 for bad arguments, 1 for failures). */
    public static int execute(String... args) {
        System.setProperty("java.awt.headless", "true");
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 2;
            }
            commandLine.getErr().println("error: " + e);
            e.printStackTrace(commandLine.getErr());
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: train, sft, eval, score, generate, compare, config or task");
    }
}
