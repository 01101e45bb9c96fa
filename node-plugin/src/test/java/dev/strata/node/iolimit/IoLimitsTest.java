package dev.strata.node.iolimit;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.model.AccessType;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.VolumeRecord;
import io.grpc.Status.Code;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IoLimitsTest {
    @Test
    void quantitiesReadAsBytesAndOperationsPerSecond() {
        IoLimits l = IoLimits.parse("parameters", Map.of("readBytesPerSecond", "20Mi", "writeBytesPerSecond", "10M",
                "readIOPS", "2k", "writeIOPS", "150"));
        assertEquals(new IoLimits(20L << 20, 10_000_000, 2000, 150), l);
        assertFalse(l.none());
    }

    @Test
    void absentOrZeroIsNoLimit() {
        assertTrue(IoLimits.parse("parameters", Map.of("colour", "blue")).none());
        assertTrue(IoLimits.parse("parameters", Map.of("writeIOPS", "0", "readBytesPerSecond", "0")).none());
        assertFalse(IoLimits.requested(Map.of("sizeLimit", "auto")));
        assertTrue(IoLimits.requested(Map.of("writeIOPS", "100")));
    }

    @Test
    void aVolumeAttributesClassOverridesTheStorageClassAndZeroLiftsALimit() {
        VolumeRecord volume = new VolumeRecord("vol-1", "pvc-1", "dir", 1L << 30, AccessType.MOUNT,
                Map.of("writeBytesPerSecond", "10Mi", "readIOPS", "100"),
                Map.of("writeBytesPerSecond", "40Mi", "readIOPS", "0"), null, "node-1", List.of(), RecordState.READY,
                Instant.EPOCH, Map.of());
        IoLimits l = IoLimits.of(volume);
        assertEquals(new IoLimits(0, 40L << 20, 0, 0), l);
    }

    @Test
    void badValuesNameTheirField() {
        assertCsi(Code.INVALID_ARGUMENT, "mutable_parameters.readIOPS", () -> IoLimits.parse("mutable_parameters",
                Map.of("readIOPS", "lots")));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.writeBytesPerSecond", () -> IoLimits.parse("parameters",
                Map.of("writeBytesPerSecond", "-5Mi")));
        // Under the floors: a typo of 10 for 10Mi would stall the pod's writes and its unmount.
        assertCsi(Code.INVALID_ARGUMENT, "parameters.writeBytesPerSecond", () -> IoLimits.parse("parameters",
                Map.of("writeBytesPerSecond", "10")));
        assertCsi(Code.INVALID_ARGUMENT, "parameters.writeIOPS", () -> IoLimits.parse("parameters",
                Map.of("writeIOPS", "9")));
    }

    @Test
    void enginesAdvertiseTheKeysBesideTheirOwn() {
        assertEquals(5, IoLimits.withKeys(java.util.Set.of("fsType")).size());
        assertTrue(IoLimits.withKeys(java.util.Set.of()).containsAll(IoLimits.KEYS));
    }
}
