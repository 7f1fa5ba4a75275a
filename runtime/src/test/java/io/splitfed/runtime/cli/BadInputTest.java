package io.splitfed.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.io.SafetensorsFile;
import io.splitfed.model.lora.PeftAdapterFormat;
import io.splitfed.model.tensor.HostTensor;
import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Files a careless user hands splitfed are read or refused with a reason: each refusal exits 2 with
 * one line that names the file and says what was found and what was expected, and no stack trace.
 */
class BadInputTest {

    @TempDir
    Path tmp;

    private static final String STORIES = SharedData.stories260k().toString();
    private static final String STORIES_TOKENIZER = SharedData.stories260kTokenizer().toString();

    private String[] train(Path data, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--set", "splitfed.data-root=" + SharedData.root(), "--train", data.toString(), "--devices", "2",
                "--rounds", "1", "--epochs", "1", "--train-limit", "96", "--eval-limit", "32", "--max-length", "24", "--micro-batch", "8", "--no-progress",
                "--out", tmp.resolve("out").toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static void assertRefused(CliRun r, Path file, String... reason) {
        assertThat(r.exit).as(r.err).isEqualTo(2);
        assertThat(r.err.strip().lines()).as(r.err).hasSize(1);
        assertThat(r.err).as(r.err).doesNotContain("\tat ").doesNotContain("Exception").contains(file.toString()).contains(reason);
    }

    private List<String> sst2(int rows) throws Exception {
        return Files.readAllLines(SharedData.sst2()).subList(0, rows + 1);
    }

    @Test
    void aBinaryFileIsRefusedAsBinary() throws Exception {
        Path bin = tmp.resolve("random.tsv");
        byte[] bytes = new byte[20_000];
        new Random(7).nextBytes(bytes);
        Files.write(bin, bytes);
        assertRefused(CliRun.of(train(bin)), bin, "NUL byte", "expected UTF-8 text");
    }

    @Test
    void aUtf16FileIsRefusedNamingItsEncoding() throws Exception {
        Path utf16 = tmp.resolve("utf16.tsv");
        Files.write(utf16, String.join("\n", sst2(200)).getBytes(StandardCharsets.UTF_16)); // Java writes the big-endian mark
        assertRefused(CliRun.of(train(utf16)), utf16, ":1: starts with a UTF-16 byte-order mark", "iconv -f UTF-16 -t UTF-8");

        Path noMark = tmp.resolve("utf16le.tsv");
        Files.write(noMark, String.join("\n", sst2(200)).getBytes(StandardCharsets.UTF_16LE));
        assertRefused(CliRun.of(train(noMark)), noMark, "NUL byte", "UTF-16 without a byte-order mark");
    }

    @Test
    void latin1BytesAreRefusedWithTheirLineAndOffset() throws Exception {
        Path latin = tmp.resolve("latin1.tsv");
        List<String> rows = sst2(200);
        rows.set(5, "caf\u00e9 au lait , lovely\t1");
        Files.write(latin, String.join("\n", rows).getBytes(StandardCharsets.ISO_8859_1));
        int offset = String.join("\n", rows.subList(0, 5)).length() + 1 + 3;
        assertRefused(CliRun.of(train(latin)), latin, latin + ":6: byte offset " + offset + " holds 0xe9", "not UTF-8");
    }

    @Test
    void aFileWithNoLabelColumnIsRefused() throws Exception {
        Path unlabelled = tmp.resolve("unlabelled.tsv");
        List<String> rows = new ArrayList<>(List.of("sentence\tscore"));
        rows.addAll(sst2(200).subList(1, 201));
        Files.write(unlabelled, rows);
        assertRefused(CliRun.of(train(unlabelled)), unlabelled, ":1: no row has a label", "columns: sentence, label");
        assertThat(tmp.resolve("out").resolve("adapter")).as("nothing written for a refused job").doesNotExist();
    }

    @Test
    void tooFewRowsNameTheFileAndTheRowsNeeded() throws Exception {
        Path few = tmp.resolve("few.tsv");
        Files.write(few, sst2(10));
        CliRun r = CliRun.of(train(few, "--set", "splitfed.job.federation.devices=9", "--set", "splitfed.job.data.train-limit=0",
                "--set", "splitfed.job.data.validation-fraction=0.2"));
        assertRefused(r, few, "10 rows, of which ", "9 devices need at least 9 training rows");

        Path tiny = tmp.resolve("tiny.tsv");
        Files.write(tiny, sst2(3));
        assertRefused(CliRun.of(train(tiny)), tiny, "3 rows are too few to hold out validation rows");
    }

    @Test
    void anAdapterWithNonFiniteWeightsIsRefusedByEvaluate() throws Exception {
        Path data = tmp.resolve("sst2.tsv");
        Files.write(data, sst2(400));
        CliRun trained = CliRun.of(train(data));
        assertThat(trained.exit).as(trained.err).isZero();
        Path adapter = tmp.resolve("out").resolve("adapter");
        Path weights = adapter.resolve(PeftAdapterFormat.WEIGHTS_FILE);
        SafetensorsFile st = SafetensorsFile.open(weights);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        String damaged = null;
        for (String name : st.names()) {
            HostTensor t = st.read(name);
            if (damaged == null && name.endsWith("lora_B.weight")) {
                damaged = name;
                t.data()[3] = Float.NaN;
            }
            tensors.put(name, t);
        }
        SafetensorsFile.write(weights, tensors, st.metadata());

        CliRun eval = CliRun.of("evaluate", "--adapter", adapter.toString(), "--data", data.toString(), "--model", STORIES, "--tokenizer", STORIES_TOKENIZER);
        assertRefused(eval, weights, "tensor '" + damaged + "' holds NaN at element 3", "must all be finite");
    }

    @Test
    void aGpt2AdapterOnALlamaModelIsRefusedBeforePyTorchSeesIt() throws Exception {
        Path data = tmp.resolve("sst2.tsv");
        Files.write(data, sst2(400));
        CliRun trained = CliRun.of(train(data, "--model", SharedData.tinyGpt2().toString()));
        assertThat(trained.exit).as(trained.err).isZero();
        Path adapter = tmp.resolve("out").resolve("adapter");
        CliRun eval = CliRun.of("evaluate", "--adapter", adapter.toString(), "--data", data.toString(), "--model", STORIES, "--tokenizer", STORIES_TOKENIZER);
        assertRefused(eval, adapter.resolve(PeftAdapterFormat.WEIGHTS_FILE), "was trained on a gpt2 model, but " + STORIES + " is llama");
    }
}
