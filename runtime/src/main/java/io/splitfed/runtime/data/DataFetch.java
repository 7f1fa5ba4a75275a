package io.splitfed.runtime.data;

import io.splitfed.runtime.cli.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Downloads a task's files into a data root, as {@link DataManifest} pins them. Each download goes
 * to {@code .downloads/NAME.part} and resumes from there (an HTTP range request) after a dropped
 * connection or a stalled one, with backoff between tries; once whole, its size and SHA-256 must be
 * the pinned ones, or it is deleted and refused naming the file and both hashes. Outputs are
 * unpacked into a staging directory, their rows counted, and only then moved into place, so a job
 * never reads a half-written or unverified file.
 *
 * @param root the data root the task's outputs go under
 * @param mirror a root serving the canonical URLs' paths (null: the canonical URLs)
 * @param stall how long a connection may deliver nothing before it is given up
 * @param tries attempts per file; between them the wait doubles from {@code backoff}
 */
public record DataFetch(Path root, String mirror, Duration stall, int tries, Duration backoff, PrintStream log) {

    /** The outputs it placed. */
    public List<Path> fetch(DataManifest.Task task) {
        log.println("fetching " + task.name() + ": " + task.title());
        log.println("  licence: " + task.licence());
        if (task.licence().toLowerCase(Locale.ROOT).contains("non-commercial")) {
            log.println("  WARNING: " + task.name() + "'s licence allows non-commercial use only");
        }
        List<Path> placed = new ArrayList<>();
        try {
            Files.createDirectories(root);
            for (DataManifest.Source s : task.sources()) {
                if (present(s)) {
                    log.println("  " + s.fileName() + ": already here and verified");
                    continue;
                }
                Path download = download(s);
                placed.addAll(unpack(s, download));
                Files.deleteIfExists(download);
            }
        } catch (IOException e) {
            throw new UserError("cannot write the data under " + root + ": " + e.getMessage());
        }
        return placed;
    }

    /** Whether every output of {@code s} is already in place with its rows (a fetch run before). */
    private boolean present(DataManifest.Source s) throws IOException {
        for (DataManifest.Output o : s.outputs()) {
            Path target = root.resolve(o.target());
            if (!Files.isRegularFile(target) || o.rows() >= 0 && rows(target) != o.rows()) {
                return false;
            }
        }
        return true;
    }

    /** Downloads {@code s} whole and verified into {@code .downloads/}, resuming and retrying; returns the file. */
    Path download(DataManifest.Source s) throws IOException {
        Path dir = root.resolve(".downloads");
        Files.createDirectories(dir);
        Path part = dir.resolve(s.fileName() + ".part");
        URI from = URI.create(mirror == null ? s.url() : mirror.replaceAll("/+$", "") + s.path());
        IOException last = null;
        long wait = backoff.toMillis();
        for (int attempt = 1; attempt <= tries; attempt++) {
            try {
                transfer(from, part, s.bytes());
                last = null;
                break;
            } catch (NotFound e) {
                throw new UserError(from + ": the server has no such file (HTTP 404)" + (mirror != null ? "; does --mirror " + mirror
                        + " serve the canonical paths (" + s.path() + ")?" : ""));
            } catch (IOException e) {
                last = e;
                log.println("  " + s.fileName() + ": try " + attempt + " of " + tries + " failed (" + e.getMessage() + ")"
                        + (attempt < tries ? "; again in " + wait + " ms, resuming at " + size(part) + " bytes" : ""));
                if (attempt < tries) {
                    sleep(wait);
                    wait *= 2;
                }
            }
        }
        if (last != null) {
            throw new UserError(from + ": download failed after " + tries + " tries (" + last.getMessage() + "); run the same command to resume from "
                    + size(part) + " of " + s.bytes() + " bytes");
        }
        String sha = sha256(part);
        long got = size(part);
        if (got != s.bytes() || !sha.equals(s.sha256())) {
            Files.deleteIfExists(part);
            throw new UserError(from + ": " + s.fileName() + " is not the pinned file: SHA-256 " + sha + " (" + got + " bytes), expected "
                    + s.sha256() + " (" + s.bytes() + " bytes); nothing was kept");
        }
        log.println("  " + s.fileName() + ": " + got + " bytes, SHA-256 verified");
        return part;
    }

    /** One try: appends to {@code part} from where it stops, or starts it again when the server ignores the range. */
    private void transfer(URI from, Path part, long expected) throws IOException {
        long have = size(part);
        if (have > expected) {
            Files.delete(part);
            have = 0;
        }
        if (have == expected) {
            return;
        }
        HttpURLConnection c = (HttpURLConnection) from.toURL().openConnection();
        c.setConnectTimeout((int) stall.toMillis());
        c.setReadTimeout((int) stall.toMillis());
        c.setRequestProperty("User-Agent", "splitfed-data-fetch");
        if (have > 0) {
            c.setRequestProperty("Range", "bytes=" + have + "-");
        }
        try {
            int code = c.getResponseCode();
            if (code == 404) {
                throw new NotFound();
            }
            boolean append = have > 0 && code == 206;
            if (code != 200 && !append) {
                throw new IOException("HTTP " + code + " " + c.getResponseMessage());
            }
            try (InputStream in = c.getInputStream();
                    OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, append ? StandardOpenOption.APPEND
                            : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                long total = append ? have : 0;
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    total += n;
                    if (total > expected) {
                        throw new IOException("the server sent more than the pinned " + expected + " bytes");
                    }
                }
                if (total < expected) {
                    throw new IOException("the connection ended at " + total + " of " + expected + " bytes");
                }
            }
        } catch (SocketTimeoutException e) {
            throw new IOException("no data for " + stall.toSeconds() + " s (the server stalled)", e);
        } finally {
            c.disconnect();
        }
    }

    /** Unpacks {@code s}'s outputs to a staging directory, checks their rows, then moves each into place. */
    private List<Path> unpack(DataManifest.Source s, Path download) throws IOException {
        Path staging = Files.createTempDirectory(root.resolve(".downloads"), "staging-");
        try {
            List<Path> staged = new ArrayList<>();
            for (DataManifest.Output o : s.outputs()) {
                Path to = staging.resolve(o.target().replace('/', '_'));
                if (o.member() == null) {
                    Files.copy(download, to);
                } else {
                    extract(download, o.member(), to, s.fileName());
                }
                if (o.rows() >= 0) {
                    long found = rows(to);
                    if (found != o.rows()) {
                        throw new UserError(s.fileName() + (o.member() == null ? "" : "!" + o.member()) + ": " + found + " data rows, expected "
                                + o.rows() + "; nothing was kept");
                    }
                }
                staged.add(to);
            }
            List<Path> placed = new ArrayList<>();
            for (int i = 0; i < staged.size(); i++) {
                Path target = root.resolve(s.outputs().get(i).target());
                Files.createDirectories(target.getParent());
                try {
                    Files.move(staged.get(i), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(staged.get(i), target, StandardCopyOption.REPLACE_EXISTING);
                }
                placed.add(target);
                log.println("  " + target + (s.outputs().get(i).rows() >= 0 ? " (" + s.outputs().get(i).rows() + " rows)" : ""));
            }
            return placed;
        } finally {
            try (var left = Files.walk(staging)) {
                for (Path p : left.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void extract(Path zip, String member, Path to, String name) throws IOException {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.getName().equals(member)) {
                    Files.copy(in, to);
                    return;
                }
            }
        }
        throw new UserError(name + ": has no member " + member + "; nothing was kept");
    }

    /** Data rows: lines, less a header line for {@code .tsv}. */
    static long rows(Path file) throws IOException {
        long lines = 0;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            int lastByte = '\n';
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        lines++;
                    }
                }
                lastByte = buf[n - 1];
            }
            if (lastByte != '\n') {
                lines++; // a last line with no line end
            }
        }
        return file.getFileName().toString().endsWith(".tsv") ? Math.max(0, lines - 1) : lines;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long size(Path p) {
        try {
            return Files.isRegularFile(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while waiting to retry");
        }
    }

    /** The server has no such file: not worth a retry. */
    private static final class NotFound extends IOException {}
}
