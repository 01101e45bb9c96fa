package dev.strata.driver;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.strata.backup.archfixture.BrokenLayering;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What docs/architecture.md promises about the packages, checked on the compiled classes of every
 * main module on this module's classpath (all but the CLI, which nothing depends on): written down
 * alone, each promise held only until the first change that forgot it.
 */
class ArchitectureTest {
    /** Below the CSI services: the domain model, the ports, their providers and the storage backend. */
    private static final String[] BELOW_CSI = {
        "dev.strata.common.model..", "dev.strata.common.port..", "dev.strata.controller.cluster..",
        "dev.strata.node.storage..", "dev.strata.node.cluster..", "dev.strata.node.engine..",
        "dev.strata.node.records..", "dev.strata.node.mount..", "dev.strata.node.sys..",
        "dev.strata.node.iolimit..", "dev.strata.backup..", "dev.strata.api.."};

    /** The storage a node keeps whether or not a cluster is there: Kubernetes is reached only around it. */
    private static final String[] LOCAL_STORAGE = {
        "dev.strata.common..", "dev.strata.node.storage..", "dev.strata.node.engine..",
        "dev.strata.node.records..", "dev.strata.node.mount..", "dev.strata.node.sys..",
        "dev.strata.node.iolimit..", "dev.strata.backup.."};

    static final ArchRule NO_PACKAGE_CYCLES = slices().matching("dev.strata.(**)").should().beFreeOfCycles();

    static final ArchRule NO_CSI_TYPES_BELOW_THE_SERVICES = noClasses().that().resideInAnyPackage(BELOW_CSI)
            .should().dependOnClassesThat().resideInAPackage("dev.strata.csi..")
            .because("the CSI services translate protobuf messages; nothing under them sees one");

    static final ArchRule NO_KUBERNETES_IN_LOCAL_STORAGE = noClasses().that().resideInAnyPackage(LOCAL_STORAGE)
            .should().dependOnClassesThat().resideInAPackage("io.fabric8..")
            .because("Kubernetes access lives in its own small services (controller.cluster, node.cluster)");

    private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar.*");

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        // the predefined option knows test-classes directories, not a module's test-jar (common's)
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.matches(TEST_JAR))
                .importPackages("dev.strata");
    }

    @Test
    void theImportHoldsEveryMainModuleButTheCli() {
        Set<String> packages = main.stream().map(JavaClass::getPackageName).collect(Collectors.toSet());
        Set<String> missing = new TreeSet<>(Set.of("dev.strata.common.model", "dev.strata.controller",
                "dev.strata.controller.cluster", "dev.strata.node.storage", "dev.strata.node.engine.thin",
                "dev.strata.backup", "dev.strata.api.v1alpha1", "dev.strata.csi.v1", "dev.strata.driver"));
        missing.removeAll(packages);
        assertEquals(Set.of(), missing, "packages the import did not find");
        assertTrue(main.stream().noneMatch(c -> c.getSimpleName().endsWith("Test")), "test classes were imported");
    }

    @Test
    void noPackageCycles() {
        NO_PACKAGE_CYCLES.check(main);
    }

    @Test
    void noCsiProtobufTypesBelowTheServices() {
        NO_CSI_TYPES_BELOW_THE_SERVICES.check(main);
    }

    @Test
    void noKubernetesClientInLocalStorage() {
        NO_KUBERNETES_IN_LOCAL_STORAGE.check(main);
    }

    /** The rules are not vacuous: each fails on test classes made to break it (the archfixture packages). */
    @Test
    void eachRuleFailsOnClassesThatBreakIt() {
        JavaClasses fixture = new ClassFileImporter().importPackages("dev.strata.driver.archfixture");
        assertViolation(NO_PACKAGE_CYCLES, fixture, "Cycle detected", "archfixture.up.Up", "archfixture.down.Down");
        JavaClasses layering = new ClassFileImporter().importClasses(BrokenLayering.class);
        assertViolation(NO_CSI_TYPES_BELOW_THE_SERVICES, layering, "dev.strata.csi.v1.Volume");
        assertViolation(NO_KUBERNETES_IN_LOCAL_STORAGE, layering, "io.fabric8.kubernetes.client.KubernetesClient");
    }

    private static void assertViolation(ArchRule rule, JavaClasses classes, String... saying) {
        String message = assertThrows(AssertionError.class, () -> rule.check(classes)).getMessage();
        for (String words : saying) {
            assertTrue(message.contains(words), () -> "no \"" + words + "\" in: " + message);
        }
    }
}
