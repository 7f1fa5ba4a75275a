package io.splitfed.runtime.metrics;

import io.splitfed.runtime.cli.UserError;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;

/**
 * Serves a {@link LiveMetrics} registry (plus the JVM's own metrics) in Prometheus' text format
 * at {@code http://HOST:PORT/metrics}, on the node that runs the job's coordinator, and beside it
 * the live page at {@code http://HOST:PORT/} with its data at {@code /live.json}.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private final HTTPServer server;
    private final String host;

    private MetricsEndpoint(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /** @param port 0 picks a free port; see {@link #url()} */
    public static MetricsEndpoint start(LiveMetrics metrics, String host, int port) {
        PrometheusRegistry registry = metrics.registry();
        JvmMetrics.builder().register(registry);
        try {
            return new MetricsEndpoint(HTTPServer.builder().hostname(host).port(port).registry(registry).defaultHandler(new LivePage(metrics)).buildAndStart(), host);
        } catch (IOException e) {
            throw new UserError("could not serve metrics on " + host + ":" + port + " (--metrics-port, splitfed.node.metrics-port): " + e.getMessage());
        }
    }

    public int port() {
        return server.getPort();
    }

    public String url() {
        return "http://" + host + ":" + port() + "/metrics";
    }

    /** The live page: round, accuracy curve, devices, shards; it polls {@link #jsonUrl()}. */
    public String pageUrl() {
        return "http://" + host + ":" + port() + "/";
    }

    public String jsonUrl() {
        return "http://" + host + ":" + port() + LivePage.JSON_PATH;
    }

    @Override
    public void close() {
        server.close();
    }
}
