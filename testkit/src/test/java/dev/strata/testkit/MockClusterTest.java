package dev.strata.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.api.v1alpha1.KubeClients;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.junit.jupiter.api.Test;

class MockClusterTest {
    @Test
    void theServerHoldsStrataCrdsForEveryClient() {
        try (MockCluster api = new MockCluster();
                KubernetesClient node = api.newClient(KubeClients.NODE)) {
            List<String> crds = node.apiextensions().v1().customResourceDefinitions().list().getItems().stream()
                    .map(CustomResourceDefinition::getMetadata).map(m -> m.getName()).sorted().toList();
            assertEquals(List.of("stratanodes.strata.csi.dev", "stratasnapshots.strata.csi.dev",
                    "stratavolumes.strata.csi.dev"), crds);
        }
    }
}
