package dev.strata.node.storage;

import dev.strata.common.model.Secrets;
import dev.strata.node.engine.VolumeKey;
import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.strata.common.LockTable;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.Ids;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.mount.Mounter;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One lock table for the whole node's storage, as {@link StorageOpener} wires it: a volume held busy
 * by one call makes every other call on it (controller side, node side, snapshots) answer ABORTED at
 * once, never wait, while calls on other volumes go ahead.
 */
class NodeStorageLocksTest {
    @TempDir
    Path tmp;
    private NodeStorage storage;

    @BeforeEach
    void open() throws IOException {
        StorageConfig config = new StorageConfig(tmp.toRealPath().resolve("data"), "node-a", "dir",
                StorageConfig.GIB, 16);
        storage = StorageOpener.open(config, new Mounter(), tmp.resolve("no-mapper-control"));
    }

    @AfterEach
    void close() throws InterruptedException {
        storage.close();
    }

    private VolumeRecord create(String name) {
        return storage.provisioner().createVolume(new VolumeSpec(name, 0, 0, AccessType.MOUNT,
                Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of(), null, List.of()));
    }

    @Test
    void aBusyVolumeAbortsCallsOnItButNotOnOthers() throws IOException {
        String id = create("pvc-busy").id();
        LockTable locks = storage.locks();
        try (LockTable.Held busy = locks.acquire(LockKeys.volume(id))) {
            assertCsi(Code.ABORTED, () -> storage.provisioner().deleteVolume(id));
            assertCsi(Code.ABORTED, () -> storage.volumes().stage(id, tmp.resolve("staging"),
                    (traits, volume) -> AccessMode.SINGLE_NODE_WRITER, List.of(), VolumeKey.NONE));
            assertCsi(Code.ABORTED, () -> storage.provisioner().createSnapshot("snap-1", id, Map.of(), Secrets.NONE));
            assertEquals(Ids.volumeId("pvc-other"), create("pvc-other").id(), "another volume goes ahead");
        }
        assertFalse(locks.isHeld(LockKeys.volume(id)), "lock still held");
        storage.provisioner().deleteVolume(id);
        assertEquals(List.of(Ids.volumeId("pvc-other")),
                storage.provisioner().listVolumes().stream().map(VolumeRecord::id).toList());
    }
}
