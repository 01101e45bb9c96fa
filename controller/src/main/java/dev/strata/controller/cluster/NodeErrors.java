package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.NodeReport;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.common.CsiException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Map;
import java.util.Objects;

/**
 * A node's refusal, reported in a resource's status, as the CSI error the caller gets. The node writes
 * the gRPC code's name; anything else (a node of another version, a hand-edited status) is INTERNAL,
 * never a client error, because the caller did nothing wrong.
 */
final class NodeErrors {
    private NodeErrors() {}

    static CsiException toCsi(NodeReport report, HasMetadata resource) {
        Map<String, String> labels = Objects.requireNonNullElse(resource.getMetadata().getLabels(), Map.of());
        return CsiException.named(report.getErrorCode(), "node " + labels.getOrDefault(Resources.NODE_LABEL,
                "(unknown)") + ": " + report.getMessage());
    }
}
