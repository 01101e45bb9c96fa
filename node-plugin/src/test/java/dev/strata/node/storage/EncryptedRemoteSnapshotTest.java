package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.backup.BackupSecrets;
import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.dir.DirEngine;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote snapshots into an encrypted target with the call's key, as a VolumeSnapshotClass's secret
 * gives it: the target is opened ahead of the upload, while the snapshot is cut, and what that
 * early open finds wrong is still the upload's to report.
 */
@Timeout(120)
class EncryptedRemoteSnapshotTest {
    @TempDir
    Path tmp;

    private DirEngine engine;
    private LocalStorage storage;
    private String target;

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: a dir volume is a loop-mounted filesystem here");
        Path dataDir = Files.createDirectories(tmp.toRealPath().resolve("data"));
        engine = new DirEngine(dataDir.resolve("engines").resolve(DirEngine.NAME), new Mounter(), new CommandRunner());
        storage = new LocalStorage(new StorageConfig(dataDir, "node-1", DirEngine.NAME, StorageConfig.GIB, 3),
                new Engines(Map.<String, VolumeEngine>of(DirEngine.NAME, engine), Map.of()),
                new MountRecords(dataDir.resolve("records/node")), new LockTable());
        target = tmp.toRealPath().resolve("target").toUri().toString();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void aWrongKeyFailsTheUploadSayingSoAndLeavesTheTargetAsItWas() throws Exception {
        String volume = storage.createVolume(new VolumeSpec("pvc-1", 0, 0, AccessType.MOUNT,
                Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of(), null, List.of())).id();
        Files.writeString(engine.volumePath(volume).resolve("data.txt"), "kept off the node");
        assertEquals(BackupRef.Phase.STORED,
                RemoteSnapshots.settled(storage, snapshot("snap-1", volume, "the key")).phase());
        Map<String, String> before = contents(tmp.resolve("target"));

        BackupRef wrong = RemoteSnapshots.settled(storage, snapshot("snap-2", volume, "not the key"));

        assertEquals(BackupRef.Phase.FAILED, wrong.phase());
        assertTrue(wrong.message().contains("the key does not open the backup target"), wrong.message());
        assertEquals("FAILED_PRECONDITION", wrong.code(), "what CreateSnapshot answers");
        // The call again answers the failure, once, and tries the upload again: it fails the same way.
        SnapshotRecord retried = snapshot("snap-2", volume, "not the key");
        assertEquals(wrong, retried.backup());
        assertEquals(wrong, RemoteSnapshots.settled(storage, storage.findSnapshot(retried.id()).orElseThrow()));
        assertEquals(before, contents(tmp.resolve("target")), "the target is as it was");
        assertEquals(BackupRef.Phase.STORED,
                RemoteSnapshots.settled(storage, snapshot("snap-3", volume, "the key")).phase(),
                "the right key still opens it");
    }

    private SnapshotRecord snapshot(String name, String volume, String key) throws IOException {
        return storage.createSnapshot(name, volume, Map.of(BackupRef.TARGET_PARAMETER, target),
                new Secrets(Map.of(BackupSecrets.KEY, key)));
    }

    /** Every file under {@code root}, by path, with its bytes (Base64; the target holds a few KiB). */
    private static Map<String, String> contents(Path root) throws IOException {
        Map<String, String> contents = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                contents.put(root.relativize(file).toString(),
                        Base64.getEncoder().encodeToString(Files.readAllBytes(file)));
            }
        }
        return contents;
    }
}
