package io.splitfed.runtime.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.metrics.TimelineEvent;
import io.splitfed.model.testing.SharedData;
import io.splitfed.runtime.report.HtmlReport;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

/**
 * The paper experiment end to end on a slice of its grid (SST-2 IID, every method, and GSM8K),
 * shrunk to seconds: real jobs, the table, PNG figures, the self-contained HTML page, and the
 * cache that makes a rerun complete only what is missing or changed.
 */
class PaperExperimentTest {

    @TempDir
    Path out;

    private static List<Cell> slice(int sst2TrainLimit) {
        List<Cell> cells = new ArrayList<>();
        for (Cell c : new PaperExperiment().cells(true)) {
            boolean sst2Iid = c.label("task").equals("sst2") && c.label("partition").equals("iid");
            boolean gsm = c.id().equals("gsm8k-iid-splitfrozen");
            if (!sst2Iid && !gsm) {
                continue;
            }
            Map<String, Object> o = new LinkedHashMap<>(c.overrides());
            o.put("federation.devices", 2);
            o.put("federation.rounds", 2);
            o.put("federation.epochs", 1);
            o.put("training.micro-batch", 16);
            o.put("data.eval-limit", gsm ? 3 : 48);
            o.put("data.train-limit", gsm ? 32 : sst2TrainLimit);
            o.put("data.max-length", gsm ? 160 : 32);
            cells.add(new Cell(c.id(), o, c.labels()));
        }
        return cells;
    }

    @Test
    void aSliceOfTheGridRunsReportsAndIsCached() throws Exception {
        Config base = ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\"");
        PaperExperiment paper = new PaperExperiment();
        List<Cell> cells = slice(192);
        assertThat(cells).extracting(Cell::id).containsExactly("sst2-iid-splitfrozen", "sst2-iid-sfl", "sst2-iid-fedlora", "sst2-iid-centralized",
                "gsm8k-iid-splitfrozen");

        List<CellResult> results = new ExperimentRunner(base, out, false).run(cells, false, (cell, settings) -> paper.afterJob(cell, true, settings));

        assertThat(results).hasSize(5).allSatisfy(r -> {
            assertThat(r.roundAccuracy()).hasSize(2);
            assertThat(r.lossCurve()).isNotEmpty();
            assertThat(r.timeline()).as(r.id() + " Gantt events").isNotEmpty();
        });
        CellResult splitfrozen = results.get(0);
        assertThat(splitfrozen.timeline()).anyMatch(e -> e.stage() == TimelineEvent.Stage.STEP && e.where().equals("shard-0") && e.spanMicros() > 0);
        assertThat(splitfrozen.timeline()).anyMatch(e -> e.stage() == TimelineEvent.Stage.COMPUTED && e.where().startsWith("device-") && e.spanMicros() > 0);
        assertThat(results.get(1).timeline()).as("SFL devices back-propagate").anyMatch(e -> e.stage() == TimelineEvent.Stage.BACKWARD);
        CellResult gsm = results.get(4);
        assertThat(gsm.extra("exactMatchQuestions")).isEqualTo(3.0);
        assertThat(gsm.extra("exactMatch") * 3).as("a share of the 3 questions").isIn(0.0, 1.0, 2.0, 3.0);
        assertThat(gsm.accuracy()).as("language modelling has no accuracy").isNaN();
        assertThat(gsm.evalLoss()).isPositive();

        String md = paper.report(results, out, true);
        assertThat(md).contains("### SST-2").contains("| splitfrozen | ").contains("| centralized | ").contains("### GSM8K")
                .contains("| 3 |");
        for (String png : List.of("loss-sst2.png", "accuracy-sst2.png", "partitions-sst2.png", "device-compute.png", "loss-gsm8k.png",
                "gantt-splitfrozen.png", "gantt-sfl.png", "gantt-fedlora.png")) {
            Path file = out.resolve("figures").resolve(png);
            assertThat(md).contains("(figures/" + png + ")");
            BufferedImage image = ImageIO.read(file.toFile());
            assertThat(image).as(png).isNotNull();
            assertThat(image.getWidth()).isEqualTo(900);
        }
        String html = HtmlReport.render("paper", md, out);
        assertThat(html).contains("<table>").contains("data:image/png;base64,").doesNotContain("](figures/");

        // a rerun completes nothing; a changed cell alone runs again
        Map<String, FileTime> before = metricsTimes(cells);
        List<CellResult> again = new ExperimentRunner(base, out, false).run(cells, false, (cell, settings) -> paper.afterJob(cell, true, settings));
        assertThat(again).extracting(CellResult::accuracy).containsExactlyElementsOf(results.stream().map(CellResult::accuracy).toList());
        assertThat(metricsTimes(cells)).isEqualTo(before);

        List<Cell> changed = slice(224);
        new ExperimentRunner(base, out, false).run(changed, false, (cell, settings) -> paper.afterJob(cell, true, settings));
        Map<String, FileTime> after = metricsTimes(cells);
        for (Cell c : cells) {
            boolean sst2 = c.id().startsWith("sst2");
            assertThat(after.get(c.id()).equals(before.get(c.id()))).as(c.id() + " kept").isEqualTo(!sst2);
        }
    }

    private Map<String, FileTime> metricsTimes(List<Cell> cells) throws Exception {
        Map<String, FileTime> m = new LinkedHashMap<>();
        for (Cell c : cells) {
            m.put(c.id(), Files.getLastModifiedTime(out.resolve("runs").resolve(c.id()).resolve("metrics.json")));
        }
        return m;
    }
}
