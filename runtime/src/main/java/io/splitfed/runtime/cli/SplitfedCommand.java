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
        subcommands = {TrainCommand.class, EvaluateCommand.class, PrivacyCommand.class, NodeCommand.class, OptimizeCommand.class, ExperimentCommand.class, GenerateCommand.class, BenchCommand.class, ChurnCommand.class, CertsCommand.class, DataCommand.class, CommandLine.HelpCommand.class})
public final class SplitfedCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "On an error, print the whole stack trace, not just the one line that says what went wrong")
    boolean verbose;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        io.splitfed.runtime.job.StopSignals.install(args);
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line, for the launcher and for tests. An error is one line on stderr:
     * a mistake in what the user gave (a flag, a setting, a file) exits 2; anything else exits 1 and
     * says that {@code --verbose} shows the stack trace.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SplitfedCommand());
        cl.setResourceBundle(ConfigDefaults.bundle()); // the flags' help states the config's defaults
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable e = unwrap(ex);
            if (io.splitfed.runtime.job.StopSignals.stopping()) {
                return 0; // what a stop signal ended: its one line says what there is to say, and the JVM exits 143 or 130
            }
            Object root = cmd.getCommandSpec().root().userObject();
            boolean verbose = parsed.hasMatchedOption("--verbose") || root instanceof SplitfedCommand r && r.verbose;
            if (verbose) {
                e.printStackTrace(cmd.getErr());
            }
            String prefix = "splitfed " + cmd.getCommandName() + ": ";
            if (userMistake(e)) {
                cmd.getErr().println(cmd.getColorScheme().errorText(prefix + oneLine(e.getMessage())));
                return 2;
            }
            cmd.getErr().println(cmd.getColorScheme().errorText(prefix + e.getClass().getSimpleName() + ": " + oneLine(String.valueOf(e.getMessage()))
                    + (verbose ? "" : " (run with --verbose for the stack trace)")));
            return 1;
        });
        return cl;
    }

    /** The cause that says what happened, out of the wrappers futures and reflection put around it. */
    static Throwable unwrap(Throwable ex) {
        Throwable e = ex;
        while ((e instanceof java.util.concurrent.ExecutionException || e instanceof java.util.concurrent.CompletionException
                || e instanceof java.lang.reflect.InvocationTargetException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private static boolean userMistake(Throwable e) {
        return e instanceof CheckpointFormatException || e instanceof DataFormatException || e instanceof IllegalArgumentException
                || e instanceof UserError || e instanceof com.typesafe.config.ConfigException;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.replace('\n', ' ').replaceAll("\\s+", " ").trim();
    }
}
