package io.splitfed.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobEvent;
import io.splitfed.actors.metrics.RoundSummary;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shipped Grafana dashboard ({@code cluster-config/grafana/splitfed-dashboard.json}) queries
 * only metrics that a job host serves, and groups or labels its lines only by labels those
 * metrics carry: a renamed metric breaks this test, not a user's dashboard.
 */
class GrafanaDashboardTest {

    private static final Pattern METRIC = Pattern.compile("\\b((?:splitfed|jvm)_[a-z_]+)\\b");
    private static final Pattern LEGEND_LABEL = Pattern.compile("\\{\\{(\\w+)}}");
    private static final Pattern BY_LABEL = Pattern.compile("by \\(([^)]*)\\)");

    @Test
    void everyQueryNamesAServedMetricAndEveryLegendOneOfItsLabels() throws Exception {
        Path file = Path.of(System.getProperty("user.dir")).resolve("../cluster-config/grafana/splitfed-dashboard.json").normalize();
        JsonNode dashboard = new ObjectMapper().readTree(file.toFile());

        LiveMetrics live = new LiveMetrics();
        JvmMetrics.builder().register(live.registry());
        // one round's events, so that every labelled series has a data point
        live.accept(new JobEvent.RoundStarted(0, 2, List.of(0, 1), 4));
        live.accept(new JobEvent.Progress(0, 1, 4, 16, 0, 1, 2, 1000, 200, 1, 0.7f));
        live.accept(new JobEvent.ShardLoad(0, 3, 5, 0.6f));
        live.accept(new JobEvent.RoundClosed(new RoundSummary(0, List.of(0, 1), List.of(0), List.of(1), List.of(), true, true, 0.6, 0.7, 0.65, 16,
                2.0, 1.5, Double.NaN, List.of(), 0)));
        Map<String, Set<String>> served = new HashMap<>();
        for (MetricSnapshot m : live.registry().scrape()) {
            String name = m.getMetadata().getPrometheusName() + (m instanceof CounterSnapshot ? "_total" : "");
            Set<String> labels = served.computeIfAbsent(name, k -> new HashSet<>(Set.of("job", "instance")));
            for (DataPointSnapshot p : m.getDataPoints()) {
                p.getLabels().forEach(l -> labels.add(l.getName()));
            }
        }

        Set<String> queried = new HashSet<>();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.get("panels")) {
            String title = panel.get("title").asText();
            assertThat(ids.add(panel.get("id").asInt())).as("panel %s's id is unique", title).isTrue();
            assertThat(panel.get("targets")).as("panel %s's queries", title).isNotEmpty();
            for (JsonNode target : panel.get("targets")) {
                String expr = target.get("expr").asText();
                Matcher m = METRIC.matcher(expr);
                Set<String> labels = new HashSet<>();
                boolean any = false;
                while (m.find()) {
                    any = true;
                    queried.add(m.group(1));
                    assertThat(served).as("panel %s queries %s", title, m.group(1)).containsKey(m.group(1));
                    labels.addAll(served.get(m.group(1)));
                }
                assertThat(any).as("panel %s's query %s names a metric", title, expr).isTrue();
                Matcher by = BY_LABEL.matcher(expr);
                while (by.find()) {
                    for (String label : by.group(1).split(",")) {
                        assertThat(labels).as("panel %s groups by %s", title, label.strip()).contains(label.strip());
                    }
                }
                Matcher legend = LEGEND_LABEL.matcher(target.path("legendFormat").asText());
                while (legend.find()) {
                    assertThat(labels).as("panel %s's legend names label %s", title, legend.group(1)).contains(legend.group(1));
                }
            }
        }
        // the dashboard charts every figure the live page shows
        assertThat(queried).contains("splitfed_round", "splitfed_round_progress_ratio", "splitfed_eval_accuracy", "splitfed_device_progress_ratio",
                "splitfed_device_lag_microbatches", "splitfed_shard_queue_depth", "splitfed_bytes_total", "splitfed_devices");
    }
}
