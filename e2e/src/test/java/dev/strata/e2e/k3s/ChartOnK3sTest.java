package dev.strata.e2e.k3s;

import com.marcnuri.helm.Helm;
import java.nio.file.Files;
import java.nio.file.Path;

/** Strata installed as {@code helm install strata charts/strata -n strata-system --create-namespace} would. */
class ChartOnK3sTest extends K3sScenarios {
    @Override
    void install(K3sCluster cluster) throws Exception {
        Path kubeconfig = Files.createTempFile("k3s", ".yaml");
        Files.writeString(kubeconfig, cluster.kubeConfigYaml());
        new Helm(K3sCluster.repo().resolve("charts/strata")).install().withName("strata")
                .withNamespace("strata-system").createNamespace().withKubeConfig(kubeconfig).call();
    }
}
