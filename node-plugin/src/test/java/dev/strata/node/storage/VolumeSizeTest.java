package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import io.grpc.Status;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The size CreateVolume gives a new volume: asked for, its source's, the default, an engine's least. */
class VolumeSizeTest {
    private static final long MIB = 1L << 20;
    private static final long DEFAULT = 1L << 30;

    private final VolumeRequests requests = new VolumeRequests(new StorageConfig(Path.of("/unused"), "node-1", "fs",
            DEFAULT, 10, List.of(), null), null);

    /** Only what sizing asks an engine: its name, its largest volume, its least (300 MiB, as xfs's). */
    private static final VolumeEngine ENGINE = (VolumeEngine) Proxy.newProxyInstance(
            VolumeSizeTest.class.getClassLoader(), new Class<?>[] {VolumeEngine.class}, (proxy, method, args) ->
                    switch (method.getName()) {
                        case "traits" -> new EngineTraits("fs", Set.of(AccessType.MOUNT, AccessType.BLOCK),
                                Set.of(AccessMode.SINGLE_NODE_WRITER), Set.of(), Set.of(), Set.of(), false);
                        case "capacity" -> new Capacity(100L << 30, 100L << 30, 0);
                        case "minimumBytes" -> args[1] == AccessType.BLOCK ? 0L : 300 * MIB;
                        default -> throw new UnsupportedOperationException(method.getName());
                    });

    private static VolumeSpec spec(long required, long limit, AccessType type) {
        return new VolumeSpec("pvc-1", required, limit, type, Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(),
                Map.of(), null, List.of());
    }

    @Test
    void lessThanTheEnginesLeastGetsItsLeastWithinTheLimit() throws Exception {
        assertEquals(300 * MIB, requests.sizeFor(spec(1, 0, AccessType.MOUNT), ENGINE, 0));
        assertEquals(300 * MIB, requests.sizeFor(spec(MIB, 300 * MIB, AccessType.MOUNT), ENGINE, 0));
        assertEquals(400 * MIB, requests.sizeFor(spec(400 * MIB, 0, AccessType.MOUNT), ENGINE, 0));
        assertEquals(MIB, requests.sizeFor(spec(MIB, 0, AccessType.BLOCK), ENGINE, 0), "a block volume: as asked");
        assertEquals(DEFAULT, requests.sizeFor(spec(0, 0, AccessType.MOUNT), ENGINE, 0));
    }

    @Test
    void aLimitBelowTheEnginesLeastIsOutOfRange() {
        CsiException e = assertThrows(CsiException.class,
                () -> requests.sizeFor(spec(MIB, 2 * MIB, AccessType.MOUNT), ENGINE, 0));
        assertEquals(Status.Code.OUT_OF_RANGE, e.code());
        assertTrue(e.getMessage().startsWith("capacity_range.limit_bytes: ")
                && e.getMessage().contains(String.valueOf(300 * MIB)), e.getMessage());
    }
}
