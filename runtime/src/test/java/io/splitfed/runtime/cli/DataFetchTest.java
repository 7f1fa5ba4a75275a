package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * {@code splitfed data fetch} against a real HTTP server on loopback (the JDK's), no network: a good
 * download lands verified; other bytes are refused naming both hashes and leave nothing; a dropped
 * transfer resumes with a range request; a stalled server and a 404 end with a clear error; and a
 * job then trains on what was fetched and its adapter scores on it, while a missing data set names the
 * command that fetches it.
 */
class DataFetchTest {

    @TempDir
    Path tmp;

    private HttpServer server;
    private final List<String> ranges = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** A zip holding {@code SST-2/train.tsv}: the first {@code rows} rows of the real SST-2 train file. */
    private static byte[] sst2Zip(int rows) throws Exception {
        List<String> lines = Files.readAllLines(SharedData.sst2()).subList(0, rows + 1);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("SST-2/train.tsv"));
            zip.write((String.join("\n", lines) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return bytes.toByteArray();
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** A manifest like the pinned one, for {@code bytes} served at the canonical path {@code /glue/data/SST-2.zip}. */
    private Path manifest(byte[] bytes, String sha, int rows) throws Exception {
        Map<String, Object> source = Map.of("url", "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip", "bytes", bytes.length, "sha256", sha,
                "outputs", List.of(Map.of("member", "SST-2/train.tsv", "target", "sst2/train.tsv", "rows", rows)));
        Map<String, Object> task = Map.of("name", "sst2", "title", "SST-2, a slice for the test", "licence", "test data", "sources", List.of(source));
        Path file = tmp.resolve("manifest.json");
        new ObjectMapper().writeValue(file.toFile(), Map.of("tasks", Map.of("sst2", task)));
        return file;
    }

    /** Serves {@code body} at the canonical path: whole, or cut after {@code cutAt} bytes on the first request, or stalling. */
    private String serve(byte[] body, int cutAt, boolean stall) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        int[] requests = {0};
        server.createContext("/glue/data/SST-2.zip", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            requests[0]++;
            if (stall) {
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body, 0, 100);
                ex.getResponseBody().flush();
                sleep(5_000);
                ex.close();
                return;
            }
            if (range != null) {
                int from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
                send(ex, 206, body, from, body.length);
            } else if (cutAt > 0 && requests[0] == 1) {
                ex.sendResponseHeaders(200, body.length); // promises all, sends part, drops the connection
                ex.getResponseBody().write(body, 0, cutAt);
                ex.getResponseBody().flush();
                ex.getResponseBody().close();
            } else {
                send(ex, 200, body, 0, body.length);
            }
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void send(HttpExchange ex, int code, byte[] body, int from, int to) throws IOException {
        ex.sendResponseHeaders(code, to - from);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body, from, to - from);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<Path> files(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void aGoodDownloadLandsVerifiedAndAJobTrainsOnIt() throws Exception {
        byte[] zip = sst2Zip(1200);
        String mirror = serve(zip, 0, false);
        Path root = tmp.resolve("data");
        CliRun r = CliRun.of("data", "fetch", "sst2", "--mirror", mirror, "--into", root.toString(), "--manifest", manifest(zip, sha256(zip), 1200).toString());
        assertThat(r.exit).as(r.err).isZero();
        assertThat(r.out).contains("licence: test data").contains("SHA-256 verified").contains(root.resolve("sst2/train.tsv") + " (1200 rows)");
        assertThat(files(root)).containsExactly(root.resolve("sst2/train.tsv"));

        // the main job's data found where the fetch put it (the tests' stories260K model, a small job)
        CliRun job = CliRun.of("train", "--set", "splitfed.data-root=" + root, "--model", SharedData.stories260k().toString(), "--tokenizer",
                SharedData.stories260kTokenizer().toString(), "--devices", "2", "--rounds", "1", "--epochs", "1", "--eval-limit", "32",
                "--max-length", "24", "--micro-batch", "8", "--no-progress", "--out", tmp.resolve("out").toString());
        assertThat(job.exit).as(job.err).isZero();
        assertThat(job.out).contains("sst2/train.tsv");
        // and the adapter it wrote scores on the fetched file: the fresh-machine path, fetch to evaluate
        CliRun eval = CliRun.of("evaluate", "--adapter", tmp.resolve("out").resolve("adapter").toString(), "--data", root.resolve("sst2/train.tsv").toString(),
                "--model", SharedData.stories260k().toString(), "--tokenizer", SharedData.stories260kTokenizer().toString());
        assertThat(eval.exit).as(eval.err).isZero();
        assertThat(eval.out).contains("1200 examples");
    }

    @Test
    void aMissingDataSetNamesTheCommandThatFetchesIt() {
        Path empty = tmp.resolve("empty");
        CliRun r = CliRun.of("train", "--set", "splitfed.data-root=" + empty, "--no-progress");
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).hasSize(1);
        assertThat(r.err).contains(empty.resolve("sst2/train.tsv") + ": no such file").contains("Fetch it with: splitfed data fetch sst2");
    }

    @Test
    void otherBytesAreRefusedNamingBothHashesAndNothingIsKept() throws Exception {
        byte[] zip = sst2Zip(50);
        String mirror = serve(zip, 0, false);
        Path root = tmp.resolve("data");
        String pinned = "ab".repeat(32);
        CliRun r = CliRun.of("data", "fetch", "sst2", "--mirror", mirror, "--into", root.toString(), "--manifest", manifest(zip, pinned, 50).toString());
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err).contains("SST-2.zip is not the pinned file: SHA-256 " + sha256(zip)).contains("expected " + pinned).contains("nothing was kept");
        assertThat(files(root)).as("nothing in the data root").isEmpty();
    }

    @Test
    void aMirrorServingOtherBytesUnderTheRightNameIsRefusedByThePinnedManifest() throws Exception {
        byte[] impostor = new byte[7_439_277]; // the pinned size, other bytes
        new Random(1).nextBytes(impostor);
        String mirror = serve(impostor, 0, false);
        Path root = tmp.resolve("data");
        CliRun r = CliRun.of("data", "fetch", "sst2", "--mirror", mirror, "--into", root.toString());
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err).contains(mirror + "/glue/data/SST-2.zip").contains("SHA-256 " + sha256(impostor))
                .contains("expected d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa (7439277 bytes)");
        assertThat(files(root)).isEmpty();
    }

    @Test
    void aDroppedTransferResumesWhereItStopped() throws Exception {
        byte[] zip = sst2Zip(3000);
        int cut = zip.length / 3;
        String mirror = serve(zip, cut, false);
        Path root = tmp.resolve("data");
        CliRun r = CliRun.of("data", "fetch", "sst2", "--mirror", mirror, "--into", root.toString(), "--manifest", manifest(zip, sha256(zip), 3000).toString());
        assertThat(r.exit).as(r.out + r.err).isZero();
        assertThat(r.out).contains("try 1 of 4 failed").contains("resuming at " + cut + " bytes");
        assertThat(ranges).as("the second request asks for the rest").containsExactly("null", "bytes=" + cut + "-");
        assertThat(Files.readAllLines(root.resolve("sst2/train.tsv"))).hasSize(3001);
    }

    @Test
    void aStalledServerTimesOutWithAClearError() throws Exception {
        byte[] zip = sst2Zip(50);
        String mirror = serve(zip, 0, true);
        Path root = tmp.resolve("data");
        CliRun r = CliRun.of("data", "fetch", "sst2", "--mirror", mirror, "--into", root.toString(), "--manifest", manifest(zip, sha256(zip), 50).toString(),
                "--stall", "1s", "--tries", "1");
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err).contains("download failed after 1 tries (no data for 1 s (the server stalled))").contains("run the same command to resume from 100 of");
        assertThat(files(root).stream().filter(p -> !p.toString().endsWith(".part")).toList()).as("only the partial download, kept for a resume").isEmpty();
    }

    @Test
    void aMissingFileIsA404NamingTheUrl() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.start();
        String mirror = "http://127.0.0.1:" + server.getAddress().getPort();
        CliRun r = CliRun.of("data", "fetch", "sst2", "--mirror", mirror, "--into", tmp.resolve("data").toString());
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err).contains(mirror + "/glue/data/SST-2.zip: the server has no such file (HTTP 404)").contains("canonical paths");
        List<String> unknown = new ArrayList<>(List.of("data", "fetch", "nope"));
        CliRun bad = CliRun.of(unknown.toArray(String[]::new));
        assertThat(bad.exit).isEqualTo(2);
        assertThat(bad.err).contains("no data task 'nope'; splitfed fetches sst2, gsm8k, flash-trace");
    }
}
