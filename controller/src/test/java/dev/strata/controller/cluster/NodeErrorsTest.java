package dev.strata.controller.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.api.v1alpha1.StrataVolumeStatus;
import dev.strata.common.CsiException;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.grpc.Status;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NodeErrorsTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "null", value = {
            "RESOURCE_EXHAUSTED, RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION, FAILED_PRECONDITION",
            "null, INTERNAL",
            "Resource_Exhausted, INTERNAL",
            "ENOSPC, INTERNAL",
            "OK, INTERNAL"})
    void theNodesCodeIsKeptWhenItIsAGrpcCodeAndIsInternalOtherwise(String reported, Status.Code expected) {
        StrataVolumeStatus status = new StrataVolumeStatus();
        status.setErrorCode(reported);
        status.setMessage("pool thin is full");
        StrataVolume volume = new StrataVolume();
        volume.setMetadata(new ObjectMetaBuilder().withName("pvc-1").addToLabels(Resources.NODE_LABEL, "node-a").build());

        CsiException e = NodeErrors.toCsi(status, volume);

        assertEquals(expected, e.code());
        assertEquals("node node-a: pool thin is full", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource("UNAVAILABLE")
    void aResourceWithoutItsNodeLabelStillGivesAnError(Status.Code code) {
        StrataVolumeStatus status = new StrataVolumeStatus();
        status.setErrorCode(code.name());
        status.setMessage("restarting");
        StrataVolume volume = new StrataVolume();
        volume.setMetadata(new ObjectMetaBuilder().withName("pvc-2").build());

        assertEquals("node (unknown): restarting", NodeErrors.toCsi(status, volume).getMessage());
    }
}
