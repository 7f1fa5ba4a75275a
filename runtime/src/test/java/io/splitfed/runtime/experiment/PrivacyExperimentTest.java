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
 * The privacy experiment end to end on two of its settings, shrunk to seconds: real jobs on SST-2,
 * each attacked once trained; the undefended cut reads back more than the heavily noised one, and
 * the report holds both rows, the front's PNG and what it recommends.
 */
class PrivacyExperimentTest {

    @TempDir
    Path out;

    @Test
    void twoSettingsTrainAreAttackedAndReported() throws Exception {
        Config base = ConfigFactory.parseString("splitfed.data-root = \"" + SharedData.root() + "\"");
        PrivacyExperiment privacy = new PrivacyExperiment(new int[] {400, 40}, new int[] {400, 40});
        List<Cell> cells = new ArrayList<>();
        for (Cell c : privacy.cells(true)) {
            if (c.id().equals("privacy-cut1-none-32b") || c.id().equals("privacy-cut1-s0.4-32b")) {
                Map<String, Object> o = new LinkedHashMap<>(c.overrides());
                o.put("federation.devices", 2);
                o.put("federation.rounds", 1);
                o.put("federation.epochs", 1);
                o.put("data.train-limit", 128);
                o.put("data.eval-limit", 48);
                cells.add(new Cell(c.id(), o, c.labels()));
            }
        }
        assertThat(cells).hasSize(2);

        List<CellResult> results = new ExperimentRunner(base, out, false).run(cells, false, (cell, settings) -> privacy.afterJob(cell, true, settings));

        CellResult none = results.get(0);
        CellResult noised = results.get(1);
        assertThat(none.extra("attackedTokens")).as("real tokens attacked").isGreaterThan(200);
        assertThat(none.extra("tokenRecovery")).as("undefended").isGreaterThan(noised.extra("tokenRecovery") + 0.3);
        assertThat(none.extra("rougeL")).isGreaterThan(noised.extra("rougeL"));
        assertThat(noised.deviceGflopsPerSample()).as("noise adds no blocks").isEqualTo(none.deviceGflopsPerSample());

        String md = privacy.report(results, out, true);
        assertThat(md).contains("| 1 | none | 32 | ").contains("| 1 | clip 12, noise 0.4 x clip | 32 | ").contains("(figures/privacy-front.png)");
        assertThat(md).containsAnyOf("**Recommended:**", "No setting holds the attack");
        BufferedImage image = ImageIO.read(out.resolve("figures").resolve("privacy-front.png").toFile());
        assertThat(image).isNotNull();
        assertThat(image.getWidth()).isEqualTo(900);
    }
}
