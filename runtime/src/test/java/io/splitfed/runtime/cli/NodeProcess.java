package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.runtime.churn.LocalNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * {@code splitfed node ARGS} in a JVM of its own, as an operator starts it (the release's
 * {@code logback.xml}, its output in a file), for tests that kill, restart and attack nodes: a
 * {@link LocalNode} whose waits fail the test.
 */
final class NodeProcess implements AutoCloseable {

    final String name;
    final Path log;
    private final LocalNode node;

    private NodeProcess(LocalNode node) {
        this.name = node.name();
        this.log = node.log();
        this.node = node;
    }

    /** Starts {@code splitfed node ARGS}, writing its output to {@code dir/name.log}. */
    static NodeProcess start(Path dir, String name, String... args) throws Exception {
        return new NodeProcess(LocalNode.start(dir, name,
                List.of("-Xmx2g", "-Dlogback.configurationFile=" + Path.of("target/classes/logback.xml").toAbsolutePath()), List.of(args)));
    }

    /** Starts the node again with the same arguments (after a kill), appending to its log. */
    NodeProcess restart() throws Exception {
        node.restart();
        return this;
    }

    String output() throws Exception {
        return node.output();
    }

    /** Waits until the node's output holds {@code text} {@code times} times. */
    void awaitOutput(String text, int times, long minutes) throws Exception {
        assertThat(node.awaitOutput(text, times, TimeUnit.MINUTES.toMillis(minutes)))
                .as("'%s' (%d times) in %s's output within %d min:%n%s", text, times, name, minutes, tail()).isTrue();
    }

    /** Waits for the line a job host prints when {@code round} closes (its summary row). */
    void awaitRound(int round) throws Exception {
        node.awaitRound(round, TimeUnit.MINUTES.toMillis(5));
    }

    /** SIGKILL: no shutdown hook, no leaving the cluster. */
    void kill() throws InterruptedException {
        node.kill();
    }

    boolean isAlive() {
        return node.isAlive();
    }

    /** Waits for the node to exit, returning its exit code. */
    int awaitExit(long minutes) throws Exception {
        OptionalInt code = node.awaitExit(TimeUnit.MINUTES.toMillis(minutes));
        assertThat(code).as("%s exits within %d min:%n%s", name, minutes, tail()).isPresent();
        return code.getAsInt();
    }

    /** The node's resident memory, from /proc. */
    long rss() throws Exception {
        assertThat(node.isAlive()).as("%s is running:%n%s", name, tail()).isTrue();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(node.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/" + node.pid() + "/status");
    }

    String tail() throws Exception {
        return node.tail();
    }

    @Override
    public void close() {
        node.close();
    }
}
