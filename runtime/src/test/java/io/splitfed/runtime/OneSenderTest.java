package io.splitfed.runtime;

import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.base.DescribedPredicate.describe;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One place sends: no main class of splitfed outside {@code io.splitfed.actors.wire} sends a
 * message itself, so none can choose the wrong way for a tensor to cross the wire. Every send goes
 * through {@code Outbox}, which decides by the message's type and the recipient. Read from the
 * compiled classes of the actors and runtime modules (the CLI's, the benchmarks', the nodes'), the
 * tests' own classes left out: tests drive actors with probes.
 */
class OneSenderTest {

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("io.splitfed");
        assertThat(main.containPackage("io.splitfed.actors.device")).as("the actors' classes are on the class path").isTrue();
        assertThat(main.containPackage("io.splitfed.runtime.cli")).as("the runtime's classes are on the class path").isTrue();
    }

    private static ArchRule noCallOutsideTheWire(Class<?> owner, String method, String why) {
        return noClasses().that().resideOutsideOfPackage("io.splitfed.actors.wire..")
                .should().callMethodWhere(describe(owner.getSimpleName() + "." + method,
                        (JavaCall<?> call) -> call.getTarget().getName().equals(method) && call.getTarget().getOwner().isAssignableTo(owner)))
                .because(why);
    }

    @Test
    void nothingOutsideTheWireTellsAnActor() {
        noCallOutsideTheWire(org.apache.pekko.actor.typed.ActorRef.class, "tell",
                "Outbox.send decides claim, parts or a plain tell by the message's type and the recipient").check(main);
        noCallOutsideTheWire(org.apache.pekko.actor.ActorRef.class, "tell",
                "a classic reference (a shard region) is sent to through Outbox.sendThrough").check(main);
    }

    @Test
    void nothingOutsideTheWireSchedulesAMessage() {
        noCallOutsideTheWire(org.apache.pekko.actor.typed.javadsl.ActorContext.class, "scheduleOnce",
                "a delayed send is Outbox.sendLater, which goes the same way as a send now").check(main);
    }

    @Test
    void nothingOutsideTheWireRetypesAReference() {
        noCallOutsideTheWire(org.apache.pekko.actor.typed.ActorRef.class, "unsafeUpcast",
                "a reply reference comes from the replier's Inbound.Adapter, and forged input from Outbox.forge").check(main);
    }

    @Test
    void nothingOutsideTheWireUsesItsInsides() {
        noClasses().that().resideOutsideOfPackage("io.splitfed.actors.wire..")
                .should().callMethodWhere(describe("a method of Wire",
                        (JavaCall<?> call) -> call.getTarget().getOwner().getName().equals("io.splitfed.actors.wire.Wire")))
                .check(main);
    }
}
