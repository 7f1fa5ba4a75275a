package io.splitfed.runtime.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.DoublePredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Waits on a job's live Prometheus metrics instead of the clock: a test that must act mid-round
 * (kill a node 30% into round 3) polls what the job reports until it is true. The positive event a
 * later assertion rests on, never a guess at how long the job takes on this machine.
 */
public final class Scrape {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private Scrape() {}

    /** The metrics page at {@code url}, or null while nothing answers there. */
    public static String page(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The value of the sample {@code name} (no labels) on {@code page}, or NaN where it is absent. */
    public static double value(String page, String name) {
        if (page == null) {
            return Double.NaN;
        }
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(page);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /**
     * Polls {@code url} until every sample named holds for its test, and returns the page that met
     * them; fails naming the samples last seen after {@code within}.
     */
    public static String await(String url, Duration within, Object... nameThenTest) {
        long deadline = System.nanoTime() + within.toNanos();
        String page = null;
        while (System.nanoTime() < deadline) {
            page = page(url);
            if (holds(page, nameThenTest)) {
                return page;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < nameThenTest.length; i += 2) {
            seen.append(' ').append(nameThenTest[i]).append('=').append(value(page, (String) nameThenTest[i]));
        }
        throw new AssertionError("waited " + within.toSeconds() + " s on " + url + " for its metrics; last seen:" + seen);
    }

    private static boolean holds(String page, Object... nameThenTest) {
        if (page == null) {
            return false;
        }
        for (int i = 0; i < nameThenTest.length; i += 2) {
            double v = value(page, (String) nameThenTest[i]);
            if (Double.isNaN(v) || !((DoublePredicate) nameThenTest[i + 1]).test(v)) {
                return false;
            }
        }
        return true;
    }
}
