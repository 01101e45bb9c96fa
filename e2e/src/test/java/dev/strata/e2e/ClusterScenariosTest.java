package dev.strata.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The same scenarios in a cluster: the controller plugin and the node plugin as processes, working
 * through the API server (fabric8's mock server, with Strata's CRDs), so that each CreateVolume,
 * CreateSnapshot and DeleteVolume travels as a custom resource to the node plugin and back.
 */
class ClusterScenariosTest extends DockerVolumeScenariosTest {
    @Override
    DriverProcess newDriver() {
        return DriverProcess.cluster(driverArgs());
    }

    /**
     * Inline volumes are the node's own: the kubelet asks the node plugin for them, no custom resource
     * is made, and the controller's ListVolumes does not list them. The node's records do.
     */
    @Override
    List<String> volumesOnNode() {
        try (Stream<Path> records = Files.list(driver.dataDir().resolve("records/volumes"))) {
            return records.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - ".json".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
