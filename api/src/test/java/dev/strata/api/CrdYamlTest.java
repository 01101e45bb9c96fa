package dev.strata.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataVolume;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRD YAML in deploy/manifests/crds is what fabric8's CRD generator makes of the typed classes.
 * The chart carries the same files (charts/strata/crds; ChartTest compares them). After changing a class,
 * regenerate both: {@code mvn -pl api test -Dtest=CrdYamlTest -Dstrata.write-crds=true}.
 */
class CrdYamlTest {
    static final Path CRDS = Path.of("..", "deploy", "manifests", "crds");
    static final Path CHART_CRDS = Path.of("..", "charts", "strata", "crds");
    static final List<Class<?>> RESOURCES = List.of(StrataVolume.class, StrataSnapshot.class, StrataNode.class);

    @Test
    void manifestsHoldTheGeneratedCrds(@TempDir Path out) throws IOException {
        new CRDGenerator().inOutputDir(out.toFile()).forCRDVersions("v1")
                .customResourceClasses(RESOURCES.toArray(Class[]::new)).generate();
        for (Class<?> type : RESOURCES) {
            String plural = type.getSimpleName().toLowerCase() + "s";
            String generated = Files.readString(out.resolve(plural + ".strata.csi.dev-v1.yml"));
            Path committed = CRDS.resolve(plural + ".yaml");
            if (Boolean.getBoolean("strata.write-crds")) {
                Files.writeString(committed, generated);
                Files.writeString(CHART_CRDS.resolve(plural + ".yaml"), generated);
            }
            assertTrue(Files.exists(committed), committed + " is missing; run with -Dstrata.write-crds=true");
            assertEquals(generated, Files.readString(committed), committed + " differs from what the classes "
                    + "generate; run with -Dstrata.write-crds=true");
            CustomResourceDefinition crd = Serialization.unmarshal(generated, CustomResourceDefinition.class);
            assertEquals("Cluster", crd.getSpec().getScope(), type.getSimpleName() + " is cluster-scoped");
            assertTrue(crd.getSpec().getVersions().get(0).getSubresources().getStatus() != null,
                    type.getSimpleName() + " has a status subresource");
        }
    }
}
