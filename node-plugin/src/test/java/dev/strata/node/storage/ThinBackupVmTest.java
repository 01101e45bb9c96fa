package dev.strata.node.storage;

import static dev.strata.common.CsiAssertions.assertCsi;
import static dev.strata.node.engine.thin.ThinPoolScratch.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.backup.BackupSummary;
import dev.strata.common.LockTable;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.engine.thin.ContentDigest;
import dev.strata.node.engine.thin.ThinEngine;
import dev.strata.node.engine.thin.ThinPoolScratch;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.records.MountRecords;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thin volumes backed up off the node block by block, on real dm-thin pools in the VM (issue 16):
 * the first backup reads only the allocated blocks, the next only those thin_delta says changed;
 * a snapshot cut while a writer appends restores byte for byte on a fresh node (another data
 * directory and pool, sharing only the target); an encrypted volume's backup is ciphertext and
 * restores encrypted, opening with the source's key (issue 18).
 */
@Tag("vm")
@Timeout(900)
class ThinBackupVmTest {
    private static final long VOLUME = 128 * MIB;
    private static final long BLOCK = 64 * 1024;

    @TempDir
    Path tmp;

    private ThinPoolScratch scratch;
    private ThinEngine engine;
    private LocalStorage storage;

    @AfterEach
    void removeEverything() throws Exception {
        stopNode();
    }

    /** A node: its own data directory and its own pool. */
    private void startNode(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        scratch = new ThinPoolScratch(dir);
        engine = scratch.open(2048 * MIB, 4);
        StorageConfig config = new StorageConfig(dir.resolve("data"), "node-" + name, ThinEngine.NAME,
                StorageConfig.GIB, 100);
        storage = new LocalStorage(config, new Engines(Map.<String, VolumeEngine>of(ThinEngine.NAME, engine), Map.of()),
                new MountRecords(dir.resolve("data/records/node")), new LockTable());
    }

    private void stopNode() throws Exception {
        if (storage != null) {
            storage.close();
            storage = null;
        }
        if (engine != null) {
            engine.close();
            engine = null;
        }
        if (scratch != null) {
            scratch.removeEverything();
            scratch = null;
        }
    }

    private String target() {
        return "file://" + tmp.resolve("target");
    }

    private static VolumeSpec spec(String name, AccessType type, Map<String, String> parameters) {
        return new VolumeSpec(name, VOLUME, 0, type, Set.of(AccessMode.SINGLE_NODE_WRITER), parameters, Map.of(),
                null, List.of());
    }

    private BackupSummary backUp(String name, String volumeId) throws Exception {
        return RemoteSnapshots.backUp(storage, target(), name, volumeId);
    }

    private String from(String snapshotName) throws IOException {
        for (var summary : BackupRepository.open(target(), BackupSecrets.keyOnly(null)).list()) {
            if (snapshotName.equals(summary.labels().get("snapshot"))) {
                return target() + "#" + summary.name();
            }
        }
        throw new AssertionError("no backup of " + snapshotName);
    }

    /** The volume's thin device, as its attributes name it. */
    private static Path device(VolumeRecord volume) {
        return Path.of(volume.attributes().get("device"));
    }

    private static void writeRandom(Path device, long offset, int length, long seed) throws IOException {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        try (FileChannel out = FileChannel.open(device, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap(data), offset);
            out.force(false);
        }
    }

    /** Whether the device holds {@code needle} anywhere (read in windows that overlap by its length). */
    private static boolean contains(Path device, byte[] needle) throws IOException {
        ByteBuffer window = ByteBuffer.allocate((int) (4 * MIB));
        try (FileChannel in = FileChannel.open(device, StandardOpenOption.READ)) {
            for (long at = 0; ; at += window.capacity() - needle.length) {
                int n = in.read(window.clear(), at);
                if (n <= 0) {
                    return false;
                }
                String text = new String(window.array(), 0, n, StandardCharsets.ISO_8859_1);
                if (text.contains(new String(needle, StandardCharsets.ISO_8859_1))) {
                    return true;
                }
                if (n < window.capacity()) {
                    return false;
                }
            }
        }
    }

    private byte[] snapshotDigest(String snapshotName) throws Exception {
        SnapshotRecord s = storage.listSnapshots().stream().filter(r -> r.name().equals(snapshotName)).findFirst()
                .orElseThrow();
        VolumeRecord local = storage.createVolume(new VolumeSpec("local-" + snapshotName, VOLUME, 0, AccessType.BLOCK,
                Set.of(AccessMode.SINGLE_NODE_WRITER), Map.of(), Map.of(),
                new dev.strata.common.model.ContentSource(dev.strata.common.model.ContentSource.Kind.SNAPSHOT, s.id()),
                List.of()));
        return ContentDigest.of(device(local), VOLUME);
    }

    @Test
    void blocksChangedSinceTheLastBackupAreAllThatIsReadAndAFreshNodeRestoresEveryByte() throws Exception {
        startNode("a");
        VolumeRecord v = storage.createVolume(spec("raw", AccessType.BLOCK, Map.of()));
        writeRandom(device(v), 0, (int) (16 * MIB), 1);
        BackupSummary first = backUp("s1", v.id());
        assertEquals(16 * MIB, first.readBytes(), "the first backup reads the allocated blocks only");
        assertEquals(VOLUME, first.logicalBytes());

        Random where = new Random(2);
        long changed = 0; // 1% of the volume, in pool chunks scattered over all of it
        for (; changed + BLOCK <= VOLUME / 100; changed += BLOCK) {
            writeRandom(device(v), where.nextInt((int) (VOLUME / BLOCK)) * BLOCK, (int) BLOCK, changed);
        }
        BackupSummary second = backUp("s2", v.id());
        assertTrue(second.readBytes() <= changed, "an incremental backup reads only what changed: "
                + second.readBytes() + " of " + VOLUME);
        assertTrue(second.uploadedBytes() <= changed * 3 / 2, "and stores about that: " + second.uploadedBytes());

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong appended = new AtomicLong();
        Thread writer = new Thread(() -> {
            long at = 64 * MIB;
            while (writing.get() && at < VOLUME) {
                try {
                    writeRandom(device(v), at, (int) MIB, at);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                at += MIB;
                appended.set(at);
            }
        });
        writer.start();
        while (appended.get() < 70 * MIB) {
            Thread.sleep(10);
        }
        backUp("s3", v.id());
        writing.set(false);
        writer.join();
        assertFalse(scratch.runner.run("dmsetup", "ls").stdout().contains("strata-snap-"),
                "a snapshot's device is active only while its backup reads it");
        Map<String, byte[]> digests = new HashMap<>();
        for (String s : List.of("s1", "s2", "s3")) {
            digests.put(s, snapshotDigest(s));
        }
        List<String> sources = List.of(from("s1"), from("s2"), from("s3"));
        stopNode();

        startNode("b");
        for (int i = 0; i < 3; i++) {
            VolumeRecord restored = storage.createVolume(spec("r" + i, AccessType.BLOCK,
                    Map.of(BackupRef.FROM_PARAMETER, sources.get(i))));
            assertArrayEquals(digests.get("s" + (i + 1)), ContentDigest.of(device(restored), VOLUME),
                    "s" + (i + 1) + " restored byte for byte on another node");
        }
        assertCsi(Code.INVALID_ARGUMENT, "parameters." + BackupRef.FROM_PARAMETER, () -> storage.createVolume(
                spec("as-ext4", AccessType.MOUNT, Map.of(BackupRef.FROM_PARAMETER, sources.get(0)))));
        assertFalse(storage.listVolumes().stream().anyMatch(r -> r.name().equals("as-ext4")), "nothing left of it");
    }

    @Test
    void anEncryptedVolumesBackupIsCiphertextAndRestoresEncryptedUnderTheSameKey() throws Exception {
        VolumeKey key = VolumeKey.fromSecrets("secrets", Map.of(VolumeKey.SECRET_KEY, "the-volume-key-4c1e"));
        byte[] marker = "PLAINTEXT-MARKER-of-a-backed-up-volume|".repeat(200).getBytes(StandardCharsets.US_ASCII);
        startNode("a");
        Map<String, String> encrypted = Map.of(ThinEngine.ENCRYPTED_PARAMETER, "true");
        VolumeRecord v = storage.createVolume(spec("secret", AccessType.MOUNT, encrypted));
        Path staged = Files.createDirectories(tmp.resolve("staged-a"));
        engine.stage(v, staged, BindOptions.NONE, key);
        Files.write(staged.resolve("data"), marker);
        engine.unstage(v, staged);
        backUp("enc", v.id());
        String source = from("enc");
        stopNode();

        startNode("b");
        assertCsi(Code.INVALID_ARGUMENT, "parameters." + BackupRef.FROM_PARAMETER, () -> storage.createVolume(spec("plain", AccessType.MOUNT,
                Map.of(BackupRef.FROM_PARAMETER, source))));
        VolumeRecord restored = storage.createVolume(spec("restored", AccessType.MOUNT,
                Map.of(ThinEngine.ENCRYPTED_PARAMETER, "true", BackupRef.FROM_PARAMETER, source)));
        assertTrue(scratch.runner.run("cryptsetup", "isLuks", "--", device(restored).toString()).ok(),
                "the restored device is LUKS2");
        assertFalse(contains(device(restored), "PLAINTEXT-MARKER".getBytes(StandardCharsets.US_ASCII)),
                "the data is ciphertext on the device, as it was in the backup");
        Path again = Files.createDirectories(tmp.resolve("staged-b"));
        engine.stage(restored, again, BindOptions.NONE, key);
        try {
            assertArrayEquals(marker, Files.readAllBytes(again.resolve("data")));
        } finally {
            engine.unstage(restored, again);
        }
    }
}
