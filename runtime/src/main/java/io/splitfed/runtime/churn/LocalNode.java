package io.splitfed.runtime.churn;

import io.splitfed.runtime.cli.SplitfedCommand;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * {@code splitfed node ARGS} in a JVM of its own on this machine, started with this JVM's class
 * path, its output in a log file: what cluster churn kills ({@code SIGKILL}), restarts, and
 * pauses ({@code SIGSTOP}, {@code SIGCONT}).
 */
public final class LocalNode implements AutoCloseable {

    private static final Pattern ROUND_LINE = Pattern.compile("(?m)^\\s+(\\d+)\\s+\\S+\\s+\\S+\\s+\\S+\\s+\\d+\\s+[0-9.]+");

    private final String name;
    private final Path log;
    private final List<String> command;
    private Process process;

    private LocalNode(String name, Path log, List<String> command) {
        this.name = name;
        this.log = log;
        this.command = command;
    }

    /** Starts {@code splitfed node ARGS} with {@code jvmOptions}, writing its output to {@code dir/name.log}. */
    public static LocalNode start(Path dir, String name, List<String> jvmOptions, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseParallelGC",
                "-Dai.djl.offline=true"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), SplitfedCommand.class.getName(), "node"));
        command.addAll(args);
        LocalNode node = new LocalNode(name, dir.resolve(name + ".log"), command);
        node.restart();
        return node;
    }

    /**
     * The flags that give node {@code name} TLS material under the CA in {@code pki} (made there on
     * first use, as {@code splitfed certs} makes it), so that a cluster of local processes runs TLS
     * as a cluster of hosts does.
     */
    public static List<String> tls(Path pki, String name) {
        try {
            io.splitfed.runtime.node.ClusterCertificates ca;
            synchronized (LocalNode.class) {
                ca = io.splitfed.runtime.node.ClusterCertificates.openOrCreate(pki, 7);
            }
            Path trust = pki.resolve(io.splitfed.runtime.node.ClusterCertificates.TRUST_STORE);
            if (!Files.exists(trust)) {
                ca.writeTrustStore();
            }
            Path store = pki.resolve(name + ".p12");
            if (!Files.exists(store)) {
                ca.writeNode(new io.splitfed.runtime.node.ClusterCertificates.Node(name, List.of("127.0.0.1")));
            }
            List<String> flags = new ArrayList<>();
            io.splitfed.runtime.node.ClusterCertificates.nodeSettings(store, trust).forEach((k, v) -> flags.addAll(List.of("--set", k + "=" + v)));
            return flags;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot make TLS material for node " + name + " in " + pki + ": " + e.getMessage(), e);
        }
    }

    /** A TCP port free on this machine now, for a node to bind. */
    public static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    /** Starts the node again with the same arguments (after a kill), appending to its log. */
    public LocalNode restart() throws IOException {
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return this;
    }

    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** The last lines of the node's output. */
    public String tail() throws IOException {
        List<String> lines = output().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    }

    /** Waits until the node's output holds {@code text} {@code times} times; false at the timeout or if it exits first. */
    public boolean awaitOutput(String text, int times, long millis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (output().split(Pattern.quote(text), -1).length - 1 < times) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    /** Rounds whose summary line a job host has printed. */
    public int roundsClosed() throws IOException {
        var m = ROUND_LINE.matcher(output());
        int last = 0;
        while (m.find()) {
            last = Math.max(last, Integer.parseInt(m.group(1)));
        }
        return last;
    }

    /** Waits for the job host's line for {@code round} (from 1): the round closed. */
    public void awaitRound(int round, long millis) throws IOException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (roundsClosed() < round) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new TimeoutException(name + " printed no line for round " + round + (process.isAlive() ? " within " + millis + " ms" : "; it exited")
                        + ":\n" + tail());
            }
            Thread.sleep(100);
        }
    }

    /** SIGKILL: no shutdown hook, no leaving the cluster. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the JVM stops where it is, its connections open. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String sig) throws IOException, InterruptedException {
        if (process.isAlive()) {
            new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for the node to exit; its exit code, or empty at the timeout. */
    public java.util.OptionalInt awaitExit(long millis) throws InterruptedException {
        return process.waitFor(millis, TimeUnit.MILLISECONDS) ? java.util.OptionalInt.of(process.exitValue()) : java.util.OptionalInt.empty();
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroyForcibly();
        }
    }
}
