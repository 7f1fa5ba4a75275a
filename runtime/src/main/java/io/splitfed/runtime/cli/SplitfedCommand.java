package io.splitfed.runtime.cli;

import io.splitfed.model.data.DataFormatException;
import io.splitfed.model.io.CheckpointFormatException;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code splitfed} command line. */
@Command(
        name = "splitfed",
        mixinStandardHelpOptions = true,
        version = "splitfed 0.1.0",
        description = "Split federated fine-tuning of LLMs on Apache Pekko and DJL.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, NodeCommand.class, OptimizeCommand.class, ExperimentCommand.class, GenerateCommand.class, BenchCommand.class, ChurnCommand.class, CommandLine.HelpCommand.class})
public final class SplitfedCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for the launcher and for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SplitfedCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CheckpointFormatException || ex instanceof DataFormatException || ex instanceof IllegalArgumentException
                    || ex instanceof UserError) {
                cmd.getErr().println(cmd.getColorScheme().errorText("splitfed " + cmd.getCommandName() + ": " + ex.getMessage()));
                return 2;
            }
            throw ex;
        });
        return cl;
    }
}
