package dev.strata.backup.archfixture;

import dev.strata.csi.v1.Volume;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * ArchitectureTest's broken layering: a class in the backup package tree (below the CSI services,
 * inside the node's local storage) that holds a CSI protobuf message and a Kubernetes client.
 */
public final class BrokenLayering {
    Volume volume;
    KubernetesClient client;
}
