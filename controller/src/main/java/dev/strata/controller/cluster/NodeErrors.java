package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.NodeReport;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.common.CsiException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.grpc.Status;
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
        Status.Code code;
        try {
            code = Status.Code.valueOf(Objects.requireNonNullElse(report.getErrorCode(), "INTERNAL"));
        } catch (IllegalArgumentException e) {
            code = Status.Code.INTERNAL;
        }
        if (code == Status.Code.OK) {
            code = Status.Code.INTERNAL; // an error that says OK is still an error
        }
        Map<String, String> labels = Objects.requireNonNullElse(resource.getMetadata().getLabels(), Map.of());
        return new CsiException(code, "node " + labels.getOrDefault(Resources.NODE_LABEL, "(unknown)") + ": "
                + report.getMessage());
    }
}
