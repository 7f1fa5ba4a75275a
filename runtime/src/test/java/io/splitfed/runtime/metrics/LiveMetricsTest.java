package io.splitfed.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobConfig;
import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.job.JobRunner;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator node's Prometheus endpoint, scraped over HTTP while a real SFL job runs on
 * shaped links: every metric the README names is there, and the counters move.
 */
class LiveMetricsTest {

    @Test
    void theEndpointIsScrapedWhileAJobRunsAndItsMetricsMove() throws Exception {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("mode", "sfl");
        job.put("federation.devices", 2);
        job.put("federation.rounds", 4);
        job.put("federation.epochs", 4);
        job.put("data.train-limit", 320);
        job.put("data.eval-limit", 64);
        job.put("data.max-length", 32);
        job.put("training.micro-batch", 16);
        job.put("links.enabled", true);
        job.put("links.uplink-mbps", 8);
        job.put("links.downlink-mbps", 8);
        Config config = JobConfig.load(JobConfig.jobSettings(job)
                .withFallback(ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\"")));

        LiveMetrics live = new LiveMetrics();
        List<Map<String, Double>> scrapes = new ArrayList<>();
        JobRunner.Outcome outcome;
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(live, "127.0.0.1", 0)) {
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest get = HttpRequest.newBuilder(URI.create(endpoint.url())).timeout(Duration.ofSeconds(10)).build();
            CompletableFuture<JobRunner.Outcome> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return JobRunner.run(config, null, null, false, live);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            while (!run.isDone()) {
                HttpResponse<String> r = http.send(get, HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                scrapes.add(parse(r.body()));
                Thread.sleep(300);
            }
            outcome = run.get();
            assertThat(outcome.metrics().rounds()).hasSize(4);
            scrapes.add(parse(http.send(get, HttpResponse.BodyHandlers.ofString()).body()));
        }

        Map<String, Double> last = scrapes.get(scrapes.size() - 1);
        var done = outcome.metrics();
        assertThat(last.get("splitfed_samples_trained_total")).as("every answered sample, every round").isEqualTo((double) done.samplesTrained());
        // the job's totals also count each round's adapter upload to the aggregator, which the live counter leaves out
        assertThat(last.get("splitfed_bytes_total{direction=\"up\"}")).isLessThan(done.totals().bytesUp()).isGreaterThan(0.9 * done.totals().bytesUp());
        assertThat(last.get("splitfed_rounds_completed_total")).isEqualTo(4.0);
        assertThat(last.get("splitfed_round")).isEqualTo(4.0);
        assertThat(last.get("splitfed_job_finished")).isEqualTo(1.0);
        assertThat(last.get("splitfed_eval_accuracy")).as("the last round's score").isEqualTo(done.accuracy());
        assertThat(last.get("splitfed_eval_accuracy") * 64).as("a share of the 64 validation rows").isCloseTo(Math.rint(last.get("splitfed_eval_accuracy") * 64), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(last.get("splitfed_bytes_total{direction=\"up\"}")).isPositive();
        assertThat(last.get("splitfed_bytes_total{direction=\"down\"}")).as("SFL's cut gradients").isPositive();
        assertThat(last.get("splitfed_device_bytes_total{device=\"1\",direction=\"up\"}")).isPositive();
        assertThat(last.get("splitfed_shard_steps_total{shard=\"0\"}")).isPositive();
        assertThat(last.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes"));

        List<Map<String, Double>> during = scrapes.stream().filter(s -> s.getOrDefault("splitfed_job_finished", 0.0) == 0.0
                && s.getOrDefault("splitfed_round", 0.0) >= 1).toList();
        assertThat(during).as("scrapes while the job ran").hasSizeGreaterThanOrEqualTo(4);
        // the counters move while the job runs
        assertThat(series(during, "splitfed_samples_trained_total").stream().distinct().count()).isGreaterThanOrEqualTo(3);
        assertThat(series(during, "splitfed_bytes_total{direction=\"up\"}").stream().distinct().count()).isGreaterThanOrEqualTo(3);
        assertThat(series(during, "splitfed_round").stream().distinct().count()).as("rounds seen running").isGreaterThanOrEqualTo(2);
        assertThat(series(during, "splitfed_samples_per_second")).anyMatch(v -> v > 0);
        assertThat(series(during, "splitfed_train_loss")).anyMatch(v -> v > 0 && Double.isFinite(v));
        // per-device lag and in-flight micro-batches, and the shard's queue depth
        for (String d : List.of("0", "1")) {
            assertThat(during).anyMatch(s -> s.containsKey("splitfed_device_lag_microbatches{device=\"" + d + "\"}"));
            assertThat(during).anyMatch(s -> s.containsKey("splitfed_device_seconds_since_answer{device=\"" + d + "\"}"));
            assertThat(during).anyMatch(s -> s.getOrDefault("splitfed_device_inflight_microbatches{device=\"" + d + "\"}", 0.0) > 0);
            assertThat(series(during, "splitfed_device_progress_ratio{device=\"" + d + "\"}").stream().distinct().count()).isGreaterThanOrEqualTo(2);
        }
        assertThat(during).anyMatch(s -> s.containsKey("splitfed_shard_queue_depth{shard=\"0\"}"));
    }

    @Test
    void onAFleetTheJobsClockIsEmulatedBesideTheWallClock() throws Exception {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("federation.devices", 2);
        job.put("federation.rounds", 2);
        job.put("federation.epochs", 1);
        job.put("data.train-limit", 128);
        job.put("data.eval-limit", 32);
        job.put("data.max-length", 32);
        job.put("fleet", "phones");
        Config config = JobConfig.load(JobConfig.jobSettings(job)
                .withFallback(ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\"")));
        LiveMetrics live = new LiveMetrics();
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(live, "127.0.0.1", 0)) {
            JobRunner.Outcome outcome = JobRunner.run(config, null, null, false, live);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(endpoint.url())).build(),
                    HttpResponse.BodyHandlers.ofString());
            Map<String, Double> m = parse(r.body());
            assertThat(m.get("splitfed_elapsed_seconds{clock=\"job\"}")).as("the phones' emulated time").isCloseTo(outcome.emulated().seconds(),
                    org.assertj.core.data.Offset.offset(1e-6));
            assertThat(m.get("splitfed_elapsed_seconds{clock=\"wall\"}")).as("the host's").isPositive();
        }
    }

    private static List<Double> series(List<Map<String, Double>> scrapes, String key) {
        return scrapes.stream().filter(s -> s.containsKey(key)).map(s -> s.get(key)).toList();
    }

    /** Prometheus text format: {@code name{labels} value} per line; comments skipped. */
    static Map<String, Double> parse(String body) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }
}
