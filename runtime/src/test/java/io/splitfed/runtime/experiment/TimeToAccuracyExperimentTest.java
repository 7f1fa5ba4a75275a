package io.splitfed.runtime.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.testing.SharedData;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

/**
 * The time-to-accuracy experiment on two of its methods, shrunk to seconds: real jobs on SST-2 on
 * the phones fleet's emulated clock, round by round, with the devices' energy; the report has a
 * row per method and the fleet's plot.
 */
class TimeToAccuracyExperimentTest {

    @TempDir
    Path out;

    @Test
    void twoMethodsArePricedOnBothFleetsAndReported() throws Exception {
        Config base = ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\"");
        TimeToAccuracyExperiment tta = new TimeToAccuracyExperiment();
        List<Cell> cells = new ArrayList<>();
        for (Cell c : tta.cells(true)) {
            if (c.label("fleet").equals("phones") && (c.label("method").equals("splitfrozen") || c.label("method").equals("fedlora"))) {
                Map<String, Object> o = new LinkedHashMap<>(c.overrides());
                o.put("federation.devices", 2);
                o.put("federation.rounds", 2);
                o.put("federation.epochs", 1);
                o.put("data.train-limit", 128);
                o.put("data.eval-limit", 48);
                cells.add(new Cell(c.id(), o, c.labels()));
            }
        }
        assertThat(cells).hasSize(2);

        List<CellResult> results = new ExperimentRunner(base, out, false).run(cells, false, (cell, settings) -> tta.afterJob(cell, true, settings));

        for (CellResult r : results) {
            List<Double> ends = TimeToAccuracyExperiment.ends(r);
            assertThat(ends).as(r.id()).hasSize(2);
            assertThat(ends.get(1)).isGreaterThan(ends.get(0)).isEqualTo(r.extra("emulated.seconds"));
            assertThat(r.extra("emulated.joules")).isPositive();
            assertThat(r.extra("emulated.modelled")).isPositive();
        }
        CellResult frozen = results.get(0);
        CellResult fedlora = results.get(1);
        // a whole model trained on each phone against one frozen block's forward pass: more compute, priced as such
        assertThat(fedlora.deviceGflopsPerSample()).isGreaterThan(5 * frozen.deviceGflopsPerSample());
        assertThat(fedlora.bytesUp()).as("adapters, not activations").isLessThan(frozen.bytesUp());
        assertThat(TimeToAccuracyExperiment.timeTo(frozen, 0.0)).isEqualTo(TimeToAccuracyExperiment.ends(frozen).get(0));
        assertThat(TimeToAccuracyExperiment.timeTo(frozen, 1.01)).isNaN();

        String md = tta.report(results, out, true);
        assertThat(md).contains("**phones**").contains("| splitfrozen | ").contains("| fedlora | ").contains("(time-to-accuracy-phones.png)");
        BufferedImage image = ImageIO.read(out.resolve("time-to-accuracy-phones.png").toFile());
        assertThat(image).isNotNull();
        assertThat(image.getWidth()).isEqualTo(900);
    }
}
