package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code splitfed node ARGS} in a JVM of its own, as an operator starts it (the release's
 * {@code logback.xml}, its output in a file), for tests that kill, restart and attack nodes.
 */
final class NodeProcess implements AutoCloseable {

    final String name;
    final Path log;
    private final List<String> command;
    private Process process;

    private NodeProcess(String name, Path log, List<String> command) {
        this.name = name;
        this.log = log;
        this.command = command;
    }

    /** Starts {@code splitfed node ARGS}, writing its output to {@code dir/name.log}. */
    static NodeProcess start(Path dir, String name, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-XX:+UseParallelGC", "-Dai.djl.offline=true", "-Dlogback.configurationFile=" + Path.of("target/classes/logback.xml").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), SplitfedCommand.class.getName(), "node"));
        command.addAll(List.of(args));
        NodeProcess node = new NodeProcess(name, dir.resolve(name + ".log"), command);
        node.restart();
        return node;
    }

    /** Starts the node again with the same arguments (after a kill), appending to its log. */
    NodeProcess restart() throws Exception {
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return this;
    }

    String output() throws Exception {
        return Files.readString(log);
    }

    /** Waits until the node's output holds {@code text} {@code times} times. */
    void awaitOutput(String text, int times, long minutes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        while (output().split(java.util.regex.Pattern.quote(text), -1).length - 1 < times) {
            assertThat(System.nanoTime()).as("'%s' (%d times) in %s's output within %d min:%n%s", text, times, name, minutes, tail()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** SIGKILL: no shutdown hook, no leaving the cluster. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** Waits for the node to exit, returning its exit code. */
    int awaitExit(long minutes) throws Exception {
        assertThat(process.waitFor(minutes, TimeUnit.MINUTES)).as("%s exits within %d min:%n%s", name, minutes, tail()).isTrue();
        return process.exitValue();
    }

    /** The node's resident memory, from /proc. */
    long rss() throws Exception {
        assertThat(process.isAlive()).as("%s is running:%n%s", name, tail()).isTrue();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/" + pid() + "/status");
    }

    String tail() throws Exception {
        List<String> lines = output().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroyForcibly();
        }
    }
}
