package io.splitfed.runtime.data;

import io.splitfed.runtime.cli.UserError;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code splitfed data fetch} may download, pinned: for each task, the files at their canonical
 * public URLs with their published size and SHA-256, what each unpacks to under the data root, how
 * many data rows each output holds, and the licence the user must see. A download whose bytes
 * differ is refused; nothing lands where a job reads it before every check passed.
 *
 * <p>{@link #pinned()} is splitfed's own; {@link #read} takes a manifest file of the same shape,
 * for a mirror of other files, or a test's.
 *
 * @param tasks by name, in order
 */
public record DataManifest(Map<String, Task> tasks) {

    /**
     * One task's data.
     *
     * @param licence shown on every fetch; a licence with {@code non-commercial} in it is shown as a warning
     */
    public record Task(String name, String title, String licence, List<Source> sources) {}

    /**
     * One file to download.
     *
     * @param url its canonical URL; a mirror serves the same path under its own root
     * @param outputs what it becomes under the data root: a zip's members, or the file itself
     */
    public record Source(String url, long bytes, String sha256, List<Output> outputs) {

        /** The path part of the URL, which a mirror serves under its root. */
        public String path() {
            return java.net.URI.create(url).getRawPath();
        }

        /** The file name the download is kept under while it runs. */
        public String fileName() {
            String p = path();
            return p.substring(p.lastIndexOf('/') + 1);
        }
    }

    /**
     * @param member the zip member it comes from (null: the downloaded file itself)
     * @param target where it goes, relative to the data root
     * @param rows data rows it must hold (lines, a header line not counted for {@code .tsv}); -1: not checked
     */
    public record Output(String member, String target, int rows) {}

    public DataManifest {
        tasks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
    }

    /** The named task, or a clear error listing the known ones. */
    public Task task(String name) {
        Task t = tasks.get(name.toLowerCase(Locale.ROOT));
        if (t == null) {
            throw new UserError("no data task '" + name + "'; splitfed fetches " + String.join(", ", tasks.keySet()));
        }
        return t;
    }

    /**
     * splitfed's pinned manifest. SST-2's archive is pinned by Hugging Face's GLUE
     * {@code dataset_infos} (7,439,277 bytes); GSM8K and FLASH's trace files by the bytes published at
     * the commits {@code ../shared/data/SOURCES.md} names.
     */
    public static DataManifest pinned() {
        Map<String, Task> t = new LinkedHashMap<>();
        t.put("sst2", new Task("sst2", "GLUE SST-2 (Stanford Sentiment Treebank, binary)",
                "no licence stated for the data by GLUE; the Stanford Sentiment Treebank is distributed for research",
                List.of(new Source("https://dl.fbaipublicfiles.com/glue/data/SST-2.zip", 7_439_277L,
                        "d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa",
                        List.of(new Output("SST-2/train.tsv", "sst2/train.tsv", 67_349), new Output("SST-2/dev.tsv", "sst2/dev.tsv", 872),
                                new Output("SST-2/test.tsv", "sst2/test.tsv", 1_821))))));
        t.put("gsm8k", new Task("gsm8k", "GSM8K (grade-school math word problems)", "MIT (openai/grade-school-math)",
                List.of(new Source("https://raw.githubusercontent.com/openai/grade-school-math/b0bb162a/grade_school_math/data/train.jsonl", 4_166_206L,
                        "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
                        List.of(new Output(null, "gsm8k/train.jsonl", 7_473))))));
        t.put("flash-trace", new Task("flash-trace", "FLASH's device traces: 333 phones' AI-Benchmark scores, 19 users' network rates",
                "BSD 2-Clause (PKU-Chengxu/FLASH)",
                List.of(new Source("https://raw.githubusercontent.com/PKU-Chengxu/FLASH/55cbede/models/utils/device_util/raw_ai_benchmark_list.json",
                                169_981L, "267a0e7b69d25906055bfc0916037686457d32de55c8a9ece8f9e295ec7a09b2",
                                List.of(new Output(null, "traces/flash/raw_ai_benchmark_list.json", -1))),
                        new Source("https://raw.githubusercontent.com/PKU-Chengxu/FLASH/55cbede/models/speed_distri.json", 3_441L,
                                "63f9e869b34ceb3fb845f755b48018f55941a1b002c02abb21255d9bf5bedea4",
                                List.of(new Output(null, "traces/flash/speed_distri.json", -1))))));
        return new DataManifest(t);
    }

    /** A manifest file of the same shape ({@code {"tasks": {"sst2": {...}}}}), for a mirror of other files or a test. */
    public static DataManifest read(Path file) {
        try {
            DataManifest m = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
                    .readValue(file.toFile(), DataManifest.class);
            if (m.tasks() == null || m.tasks().isEmpty()) {
                throw new UserError(file + ": names no tasks; expected {\"tasks\": {\"NAME\": {\"name\", \"title\", \"licence\", \"sources\"}}}");
            }
            m.tasks().forEach((name, t) -> check(file, name, t));
            return m;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UserError(file + ":" + (e.getLocation() == null ? "" : e.getLocation().getLineNr() + ":") + " not a data manifest: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UserError(file + ": cannot read the manifest (" + e.getMessage() + ")");
        }
    }

    private static void check(Path file, String name, Task t) {
        String where = file + ": task " + name;
        if (t.title() == null || t.licence() == null || t.sources() == null || t.sources().isEmpty()) {
            throw new UserError(where + ": needs title, licence and at least one source");
        }
        for (Source s : t.sources()) {
            if (s.url() == null || s.sha256() == null || !s.sha256().matches("[0-9a-f]{64}") || s.bytes() <= 0 || s.outputs() == null
                    || s.outputs().isEmpty()) {
                throw new UserError(where + ": each source needs url, bytes > 0, sha256 (64 lowercase hex digits) and outputs; found " + s);
            }
            for (Output o : s.outputs()) {
                if (o.target() == null || o.target().startsWith("/") || o.target().contains("..")) {
                    throw new UserError(where + ": an output's target is a path inside the data root; found " + o);
                }
            }
        }
    }
}
