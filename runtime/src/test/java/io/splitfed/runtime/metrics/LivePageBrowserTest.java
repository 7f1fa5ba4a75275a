package io.splitfed.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.job.JobConfig;
import io.splitfed.actors.metrics.RoundSummary;
import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.job.JobRunner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The live page in a real headless browser (issue 24, must-show 4): Debian's Chromium, driven
 * through its chromedriver, opens the page of a running SFL job on shaped links. Whenever the page
 * and two reads of {@code /live.json} around it agree on the snapshot version, everything the page
 * shows is checked against that JSON: the round, the accuracy curve's points and the rounds table,
 * every device's progress, lag, in-flight count and bytes, the shards, the byte totals. At the end
 * the page shows the finished job as {@code metrics.json} has it.
 *
 * <p>The test needs {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} (Debian's
 * {@code chromium} and {@code chromium-driver}; {@code SPLITFED_CHROMIUM} and
 * {@code SPLITFED_CHROMEDRIVER} point elsewhere). Without them it is skipped, unless
 * {@code SPLITFED_REQUIRE_BROWSER} is set, as {@code .ci/run} sets it after installing them.
 */
class LivePageBrowserTest {

    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("SPLITFED_CHROMIUM", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getenv().getOrDefault("SPLITFED_CHROMEDRIVER", "/usr/bin/chromedriver"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Everything the page shows, read in one script so that no render of the page falls between two reads. */
    private static final String READ_PAGE = """
            const field = (sel) => { const e = document.querySelector(sel); return e ? {text: e.textContent, value: e.dataset.value} : null; };
            const summary = {};
            for (const f of ["round", "rounds", "roundProgress", "samplesPerSecond", "samplesTrained", "bytesUp", "bytesDown", "late", "gone", "benched", "version"]) {
              summary[f] = field('[data-field="' + f + '"]');
            }
            summary.state = field('#status');
            const rows = (sel) => [...document.querySelectorAll(sel + " tbody tr")].map(r =>
              Object.fromEntries([...r.cells].map(c => [c.dataset.field, {text: c.textContent, value: c.dataset.value}])));
            const curve = [...document.querySelectorAll("#accuracy circle")].map(c => ({round: c.dataset.round, accuracy: c.dataset.accuracy}));
            const line = document.querySelector("#accuracy polyline");
            return JSON.stringify({summary, rounds: rows("#rounds"), devices: rows("#devices"), shards: rows("#shards"), curve,
              linePoints: line ? line.getAttribute("points").trim().split(/\\s+/).filter(s => s.length).length : 0,
              error: document.getElementById("error").textContent});
            """;

    @Test
    void thePageShowsTheRoundTheAccuracyCurveAndEveryDeviceAsTheJsonEndpointSaysWhileAJobRuns() throws Exception {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed) {
            assertThat(System.getenv("SPLITFED_REQUIRE_BROWSER")).as("SPLITFED_REQUIRE_BROWSER is set, and %s or %s is missing "
                    + "(apt-get install chromium chromium-driver)", CHROMIUM, CHROMEDRIVER).isNull();
            Assumptions.abort("no " + CHROMIUM + " and " + CHROMEDRIVER + " here (Debian: apt-get install chromium chromium-driver)");
        }
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("mode", "sfl");
        job.put("federation.devices", 3);
        job.put("federation.rounds", 5);
        job.put("federation.epochs", 5);
        job.put("data.train-limit", 384);
        job.put("data.eval-limit", 64);
        job.put("data.max-length", 32);
        job.put("training.micro-batch", 16);
        // each message waits 300 ms on its link: the job lasts long enough to be watched, with quiet moments to compare in
        job.put("links.enabled", true);
        job.put("links.latency", "300ms");
        Config config = JobConfig.load(JobConfig.jobSettings(job)
                .withFallback(ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\"")));

        LiveMetrics live = new LiveMetrics();
        HttpClient http = HttpClient.newHttpClient();
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + tmp.resolve("chromium"));
        ChromeDriver browser = new ChromeDriver(service, options);
        int comparedWhileRunning = 0;
        int maxRoundCompared = 0;
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(live, "127.0.0.1", 0)) {
            HttpRequest json = HttpRequest.newBuilder(URI.create(endpoint.jsonUrl())).timeout(Duration.ofSeconds(10)).build();
            browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
            browser.get(endpoint.pageUrl());
            assertThat(browser.getTitle()).isEqualTo("splitfed: live job");

            CompletableFuture<JobRunner.Outcome> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return JobRunner.run(config, tmp.resolve("metrics.json"), null, false, live);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            while (!run.isDone()) {
                JsonNode before = JSON.readTree(http.send(json, HttpResponse.BodyHandlers.ofString()).body());
                if (before.get("state").asText().equals("running") && before.get("history").size() >= 1 && before.get("devices").size() == 3) {
                    JsonNode page = read(browser, true);
                    JsonNode after = JSON.readTree(http.send(json, HttpResponse.BodyHandlers.ofString()).body());
                    long version = before.get("version").asLong();
                    if (after.get("version").asLong() == version && page.at("/summary/version/value").asLong() == version) {
                        assertShows(page, before);
                        comparedWhileRunning++;
                        maxRoundCompared = Math.max(maxRoundCompared, before.get("round").asInt());
                    }
                }
                Thread.sleep(150);
            }
            JobRunner.Outcome outcome = run.get(1, TimeUnit.MINUTES);
            JsonNode end = JSON.readTree(http.send(json, HttpResponse.BodyHandlers.ofString()).body());
            JsonNode page = read(browser, true);
            System.out.printf("live page: compared with live.json %d times while the job ran, up to round %d; %d rounds at the end%n",
                    comparedWhileRunning, maxRoundCompared, end.get("history").size());

            assertThat(comparedWhileRunning).as("snapshots compared while the job ran, its first round closed").isGreaterThanOrEqualTo(3);
            assertThat(maxRoundCompared).as("the latest round compared while running").isGreaterThanOrEqualTo(3);
            assertShows(page, end);
            assertThat(page.at("/summary/state/text").asText()).isEqualTo("finished");
            assertThat(page.at("/summary/round/text").asText()).isEqualTo("5");
            // the accuracy curve at the end is the job's own record, round by round
            List<RoundSummary> rounds = outcome.metrics().rounds();
            assertThat(page.get("curve")).hasSize(rounds.size());
            for (int i = 0; i < rounds.size(); i++) {
                assertThat(page.get("curve").get(i).get("round").asInt()).isEqualTo(rounds.get(i).round() + 1);
                assertThat(page.get("curve").get(i).get("accuracy").asDouble()).as("round %d's accuracy on the curve", i + 1).isEqualTo(rounds.get(i).accuracy());
            }
            assertThat(page.get("linePoints").asInt()).as("the curve's line goes through every point").isEqualTo(rounds.size());
        } finally {
            browser.quit();
        }
    }

    /** The page's own snapshot after it fetched {@code live.json} once more (its refresh, awaited). */
    private static JsonNode read(ChromeDriver browser, boolean refresh) throws Exception {
        JavascriptExecutor js = browser;
        if (refresh) {
            js.executeAsyncScript("window.splitfedLive.refresh().then(() => arguments[arguments.length - 1]())");
        }
        return JSON.readTree((String) js.executeScript(READ_PAGE));
    }

    /** Every figure the page shows, in text and in value, is the JSON's. */
    private static void assertShows(JsonNode page, JsonNode v) {
        String at = "the page at version " + v.get("version").asLong() + " against " + v;
        assertThat(page.get("error").asText()).as(at).isEmpty();
        JsonNode s = page.get("summary");
        assertThat(s.at("/state/text").asText()).as(at).isEqualTo(v.get("state").asText());
        assertInt(s.get("round"), v.get("round"), at);
        assertInt(s.get("rounds"), v.get("rounds"), at);
        assertInt(s.get("samplesTrained"), v.get("samplesTrained"), at);
        assertInt(s.get("bytesUp"), v.get("bytesUp"), at);
        assertInt(s.get("bytesDown"), v.get("bytesDown"), at);
        assertThat(s.at("/roundProgress/text").asText()).as(at).isEqualTo(percent(v.get("roundProgress").asDouble()));
        assertThat(s.at("/samplesPerSecond/text").asText()).as("samples/s, measured when the page was served").matches("\\d+\\.\\d");
        for (String list : List.of("late", "gone", "benched")) {
            List<String> ids = new ArrayList<>();
            v.get(list).forEach(d -> ids.add(d.asText()));
            assertThat(s.at("/" + list + "/text").asText()).as(at).isEqualTo(ids.isEmpty() ? "none" : String.join(", ", ids));
        }

        JsonNode history = v.get("history");
        assertThat(page.get("rounds")).as(at).hasSize(history.size());
        int finite = 0;
        for (int i = 0; i < history.size(); i++) {
            JsonNode row = page.get("rounds").get(i);
            JsonNode h = history.get(i);
            assertInt(row.get("round"), h.get("round"), at);
            assertThat(row.at("/accuracy/text").asText()).as(at).isEqualTo(decimal(h.get("accuracy").asDouble(), 4));
            assertThat(row.at("/evalLoss/text").asText()).as(at).isEqualTo(decimal(h.get("evalLoss").asDouble(), 4));
            assertThat(row.at("/trainLoss/text").asText()).as(at).isEqualTo(decimal(h.get("trainLoss").asDouble(), 4));
            assertThat(row.at("/done/text").asText()).as(at).isEqualTo(h.get("done").asInt() + " / " + h.get("sampled").asInt());
            if (Double.isFinite(h.get("accuracy").asDouble())) {
                JsonNode point = page.get("curve").get(finite++);
                assertThat(point.get("round").asInt()).as(at).isEqualTo(h.get("round").asInt());
                assertThat(point.get("accuracy").asDouble()).as(at).isEqualTo(h.get("accuracy").asDouble());
            }
        }
        assertThat(page.get("curve")).as("a point per scored round").hasSize(finite);

        JsonNode devices = v.get("devices");
        assertThat(page.get("devices")).as(at).hasSize(devices.size());
        for (int i = 0; i < devices.size(); i++) {
            JsonNode row = page.get("devices").get(i);
            JsonNode d = devices.get(i);
            assertInt(row.get("device"), d.get("device"), at);
            assertThat(row.at("/progress/text").asText()).as(at).isEqualTo(percent(d.get("progress").asDouble()));
            assertThat(row.at("/progress/value").asDouble()).as(at).isEqualTo(d.get("progress").asDouble());
            assertThat(row.at("/lag/text").asText()).as(at).isEqualTo(decimal(d.get("lag").asDouble(), 1));
            assertInt(row.get("inFlight"), d.get("inFlight"), at);
            assertInt(row.get("bytesUp"), d.get("bytesUp"), at);
            assertInt(row.get("bytesDown"), d.get("bytesDown"), at);
            assertThat(row.at("/secondsSinceAnswer/text").asText()).as(at).matches("\\d+\\.\\d s");
        }
        JsonNode shards = v.get("shards");
        assertThat(page.get("shards")).as(at).hasSize(shards.size());
        for (int i = 0; i < shards.size(); i++) {
            assertInt(page.get("shards").get(i).get("shard"), shards.get(i).get("shard"), at);
            assertInt(page.get("shards").get(i).get("queued"), shards.get(i).get("queued"), at);
            assertInt(page.get("shards").get(i).get("steps"), shards.get(i).get("steps"), at);
        }
    }

    private static void assertInt(JsonNode shown, JsonNode expected, String at) {
        assertThat(shown.get("text").asText()).as(at).isEqualTo(Long.toString(expected.asLong()));
        assertThat(shown.get("value").asLong()).as(at).isEqualTo(expected.asLong());
    }

    /** JavaScript's {@code toFixed}: the exact binary value, ties away from zero. */
    private static String decimal(double v, int places) {
        return Double.isFinite(v) ? new BigDecimal(v).setScale(places, RoundingMode.HALF_UP).toPlainString() : "n/a";
    }

    private static String percent(double share) {
        return decimal(100 * share, 1) + "%";
    }
}
