package io.splitfed.runtime.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The live page beside {@code /metrics}: {@code /} serves a plain HTML page whose script polls
 * {@code /live.json}, the {@link LiveView} of a {@link LiveMetrics}. Nothing on the page comes from
 * anywhere but this endpoint. Every other path is 404.
 */
final class LivePage implements HttpHandler {

    static final String JSON_PATH = "/live.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] PAGE = page();

    private final LiveMetrics metrics;

    LivePage(LiveMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                send(exchange, 405, "text/plain; charset=utf-8", "GET only\n".getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/") || path.equals("/live")) {
                send(exchange, 200, "text/html; charset=utf-8", PAGE);
            } else if (path.equals(JSON_PATH)) {
                send(exchange, 200, "application/json", JSON.writeValueAsBytes(metrics.view()));
            } else {
                send(exchange, 404, "text/plain; charset=utf-8",
                        ("no such page: " + path + " (the live page is /, its data /live.json, Prometheus' metrics /metrics)\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static byte[] page() {
        try (InputStream in = LivePage.class.getResourceAsStream("live.html")) {
            if (in == null) {
                throw new IllegalStateException("live.html is missing from the runtime jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
