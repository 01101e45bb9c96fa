package dev.strata.e2e.k3s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Strata installed as {@code kubectl apply -k deploy/manifests} would install it. */
class ManifestsOnK3sTest extends K3sScenarios {
    @Override
    void install(K3sCluster cluster) throws Exception {
        apply(cluster, K3sCluster.repo().resolve("deploy/manifests"));
    }

    /** Each resource of the kustomization, in order, server-side applied (what kubectl apply -k sends). */
    private static void apply(K3sCluster cluster, Path dir) throws Exception {
        JsonNode kustomization = new ObjectMapper(new YAMLFactory()).readTree(dir.resolve("kustomization.yaml")
                .toFile());
        for (JsonNode resource : kustomization.path("resources")) {
            Path path = dir.resolve(resource.asText());
            if (Files.isDirectory(path)) {
                apply(cluster, path);
                continue;
            }
            try (InputStream in = Files.newInputStream(path)) {
                for (HasMetadata o : cluster.client().load(in).items()) {
                    cluster.client().resource(o).serverSideApply();
                }
            }
        }
    }
}
