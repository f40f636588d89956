package io.vlmrl.cli;

import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.TaskExport;
import io.vlmrl.run.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code task export}: the built-in task written as a user's data set (PNGs + JSONL). */
@Command(name = "task", mixinStandardHelpOptions = true, description = "The built-in task.",
        subcommands = TaskCommand.Export.class)
public final class TaskCommand implements Runnable {

    @Override
    public void run() {
        throw new IllegalArgumentException("task: a subcommand is required: export");
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write the built-in task as a data set: DIR/train.jsonl, DIR/eval.jsonl and DIR/images/*.png (task.* keys apply).")
    static final class Export implements Callable<Integer> {

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write")
        Path out;

        @Option(names = "--train", defaultValue = "5000", description = "training problems, with the teacher's solutions (default: ${DEFAULT-VALUE})")
        int train;

        @Option(names = "--eval", defaultValue = "400", description = "held-out problems (default: ${DEFAULT-VALUE})")
        int eval;

        @Mixin
        ConfigOptions options;

        @Override
        public Integer call() throws Exception {
            RunConfig config = options.resolve(null);
            TaskExport.write(new BuiltinTask(config.task()), out, train, eval);
            System.out.printf("wrote %d training and %d held-out problems to %s (%s, %s)%n", train, eval, out,
                    out.resolve(TaskExport.TRAIN_FILE), out.resolve(TaskExport.EVAL_FILE));
            return 0;
        }
    }
}
