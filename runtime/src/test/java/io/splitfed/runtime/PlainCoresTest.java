package io.splitfed.runtime;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The actors' cores are plain Java: the coordinator's ({@code JobCourse} and what it decides with),
 * the shard's ({@code ShardQueue}) and the device's ({@code DevicePipeline}) use nothing of Pekko,
 * so their tests drive them by hand, with no ActorSystem and an injected clock.
 */
class PlainCoresTest {

    private static final String[] CORES = {
        "io.splitfed.actors.coordinator.JobCourse", "io.splitfed.actors.coordinator.RoundPolicy", "io.splitfed.actors.coordinator.RoundEffect",
        "io.splitfed.actors.coordinator.RoundRules", "io.splitfed.actors.coordinator.RoundOpening", "io.splitfed.actors.coordinator.RoundLedger",
        "io.splitfed.actors.coordinator.LateWork", "io.splitfed.actors.coordinator.Quarantine", "io.splitfed.actors.coordinator.ShardRecovery",
        "io.splitfed.actors.coordinator.RoundScoring", "io.splitfed.actors.coordinator.UpdateCheck", "io.splitfed.actors.coordinator.JobHistory",
        "io.splitfed.actors.server.ShardQueue", "io.splitfed.actors.device.DevicePipeline",
    };

    @Test
    void theCoresUseNothingOfPekko() {
        JavaClasses main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("io.splitfed.actors");
        for (String core : CORES) {
            assertThat(main.contain(core)).as(core + " is among the actors' classes").isTrue();
        }
        noClasses().that().haveNameMatching(String.join("|", java.util.Arrays.stream(CORES).map(c -> c.replace(".", "\\.") + "(\\$.*)?").toList()))
                .should().dependOnClassesThat().resideInAPackage("org.apache.pekko..")
                .because("a core decides and the actor around it sends; its test starts no ActorSystem")
                .check(main);
    }
}
