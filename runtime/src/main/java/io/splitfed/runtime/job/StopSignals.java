package io.splitfed.runtime.job;

import io.splitfed.model.tensor.TensorExecutor;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * SIGTERM ({@code systemctl stop}, {@code docker stop}, Kubernetes) and SIGINT (Ctrl-C) end a
 * splitfed process cleanly: the tensor thread finishes or abandons its step and takes no more, so
 * PyTorch is torn down with no thread inside it; then one line names the newest checkpoint and the
 * command that resumes from it, and the process exits 143 or 130. Pekko's own shutdown hook leaves
 * the cluster meanwhile. Installed by the command line's {@code main} only, never by embedders or
 * in-process tests.
 */
public final class StopSignals {

    private static final Duration STEP_GRACE = Duration.ofSeconds(30);
    private static volatile String signal;
    private static volatile Path checkpoints;
    private static volatile boolean watching;
    private static String[] args = new String[0];

    private StopSignals() {}

    /** Handles SIGTERM and SIGINT for the command line {@code splitfed ARGS}. */
    public static void install(String[] commandLine) {
        args = commandLine.clone();
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                    signal = "SIG" + s.getName();
                    System.exit(128 + s.getNumber());
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // a JVM without this signal (or with -Xrs): its default handling stays
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(StopSignals::onShutdown, "splitfed-stop"));
    }

    /** True once SIGTERM or SIGINT has begun stopping this process: what ends then is not a failure to report. */
    public static boolean stopping() {
        return signal != null;
    }

    /** The running job keeps its checkpoints in {@code dir} (null: none); the stop line names the newest. */
    public static void watch(Path dir) {
        checkpoints = dir;
        watching = true;
    }

    private static void onShutdown() {
        if (signal == null) {
            return; // a normal exit
        }
        boolean idle = TensorExecutor.shared().stop(STEP_GRACE);
        String command = args.length > 0 ? args[0] : "";
        StringBuilder line = new StringBuilder("splitfed ").append(command).append(": stopped by ").append(signal);
        if (!idle) {
            line.append(" (the tensor step still running after ").append(STEP_GRACE.toSeconds()).append(" s was left to the exit)");
        }
        if (!watching) {
            // stopped before the command got to its job (still starting): the command line says where its checkpoints go
            Path named = checkpointDir(args);
            if (named != null) {
                checkpoints = named;
                watching = true;
            }
        }
        if (watching) {
            line.append("; ").append(resumeAdvice());
        }
        System.err.println(line);
        System.err.flush();
    }

    /** Which checkpoint a resume starts from, and the command that does it. */
    static String resumeAdvice() {
        Path dir = checkpoints;
        if (dir == null) {
            return "this job kept no checkpoint, so it would start again from round 0 (--checkpoint-dir DIR keeps one after each round)";
        }
        String newest = null;
        try {
            Path latest = dir.resolve("LATEST");
            if (Files.isRegularFile(latest)) {
                newest = Files.readString(latest, StandardCharsets.UTF_8).strip();
            }
        } catch (java.io.IOException e) {
            newest = null;
        }
        if (newest == null || newest.isEmpty()) {
            return "no checkpoint was written yet in " + dir + " (the first comes at the end of a round); the same command starts again";
        }
        return "the newest checkpoint is " + dir.resolve(newest) + "; resume with: " + resumeCommand(args, dir);
    }

    /** The directory {@code --checkpoint-dir} or {@code --resume} names on {@code commandLine}, or null. */
    static Path checkpointDir(String[] commandLine) {
        Path dir = null;
        for (int i = 0; i < commandLine.length; i++) {
            String a = commandLine[i];
            for (String flag : List.of("--checkpoint-dir", "--resume")) {
                if (a.equals(flag) && i + 1 < commandLine.length) {
                    dir = Path.of(commandLine[i + 1]);
                } else if (a.startsWith(flag + "=")) {
                    dir = Path.of(a.substring(flag.length() + 1));
                }
            }
        }
        return dir;
    }

    /** {@code splitfed ARGS} with {@code --checkpoint-dir DIR} turned into {@code --resume DIR} (which keeps checkpointing there). */
    static String resumeCommand(String[] commandLine, Path dir) {
        List<String> out = new ArrayList<>(List.of("splitfed"));
        boolean resumes = false;
        for (int i = 0; i < commandLine.length; i++) {
            String a = commandLine[i];
            if (a.equals("--checkpoint-dir") && i + 1 < commandLine.length) {
                out.add("--resume");
                out.add(quote(commandLine[++i]));
                resumes = true;
            } else if (a.startsWith("--checkpoint-dir=")) {
                out.add("--resume=" + quote(a.substring("--checkpoint-dir=".length())));
                resumes = true;
            } else {
                resumes |= a.equals("--resume") || a.startsWith("--resume=");
                out.add(quote(a));
            }
        }
        if (!resumes) {
            out.add("--resume");
            out.add(quote(dir.toString()));
        }
        return String.join(" ", out);
    }

    private static String quote(String s) {
        return s.matches("[A-Za-z0-9_./:=,@%+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
