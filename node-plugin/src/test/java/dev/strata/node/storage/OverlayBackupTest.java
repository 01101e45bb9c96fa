package dev.strata.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.backup.BackupSummary;
import dev.strata.common.LockTable;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.engine.overlay.OverlayEngine;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.records.MountRecords;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overlay volumes backed up off the node layer by layer, on real overlayfs mounts (issue 16): two
 * clones of one snapshot share its layer in the target, so the second clone's backup reads and
 * uploads only its own layer; an incremental backup reads only its new layer; a snapshot cut while a
 * writer appends, with a whiteout and an opaque directory in its layer, restores on a fresh node (its
 * own data directory, sharing only the target) to the same merged view, the shared layer made once.
 */
@Timeout(300)
class OverlayBackupTest {
    private static final long VOLUME = 256L << 20;

    @TempDir
    Path tmp;

    private final Mounter mounter = new Mounter();
    private OverlayEngine engine;
    private LocalStorage storage;
    private Path nodeDir;

    @BeforeEach
    void needsRoot() {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: overlay and loop mounts");
    }

    @AfterEach
    void stopNode() throws Exception {
        if (nodeDir != null) {
            for (Path p : MountTable.read().under(nodeDir.toRealPath())) {
                mounter.unmount(p);
            }
        }
        if (storage != null) {
            storage.close();
            storage = null;
        }
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }

    /** A node: its own data directory, sharing nothing with another but the target. */
    private void startNode(String name) throws IOException {
        nodeDir = Files.createDirectories(tmp.resolve(name)).toRealPath();
        engine = new OverlayEngine(nodeDir.resolve("data/engines/overlay"), mounter, new CommandRunner());
        engine.start();
        StorageConfig config = new StorageConfig(nodeDir.resolve("data"), "node-" + name, OverlayEngine.NAME,
                StorageConfig.GIB, 100);
        storage = new LocalStorage(config, new Engines(Map.<String, VolumeEngine>of(OverlayEngine.NAME, engine),
                Map.of()), new MountRecords(nodeDir.resolve("data/records/node")), new LockTable());
    }

    private String target() {
        return "file://" + tmp.resolve("target");
    }

    private VolumeRecord volume(String name, ContentSource source, Map<String, String> parameters) {
        return storage.createVolume(new VolumeSpec(name, VOLUME, 0, AccessType.MOUNT,
                Set.of(AccessMode.SINGLE_NODE_WRITER), parameters, Map.of(), source, List.of()));
    }

    private Path stage(VolumeRecord v) throws IOException {
        Path at = Files.createDirectories(nodeDir.resolve("staging").resolve(v.name()));
        engine.stage(v, at, BindOptions.NONE);
        return at;
    }

    private BackupSummary backUp(String name, String volumeId) throws Exception {
        return RemoteSnapshots.backUp(storage, target(), name, volumeId);
    }

    private SnapshotRecord snapshot(String name) {
        return storage.listSnapshots().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    /** The merged view of a snapshot, as a volume cut from it on this node shows it. */
    private Map<String, String> viewOf(String snapshotName) throws IOException {
        VolumeRecord local = volume("view-" + snapshotName,
                new ContentSource(ContentSource.Kind.SNAPSHOT, snapshot(snapshotName).id()), Map.of());
        return describe(stage(local));
    }

    /** Every path under root with its type, mode and content's SHA-256. */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> tree = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                String mode = Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode",
                        LinkOption.NOFOLLOW_LINKS) & 07777);
                String what = Files.isSymbolicLink(p) ? "link " + Files.readSymbolicLink(p)
                        : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir " + mode
                        : "file " + mode + " " + sha256(Files.readAllBytes(p));
                tree.put(root.relativize(p).toString(), what);
            }
        }
        return tree;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static void writeRandom(Path file, int bytes, long seed) throws IOException {
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        Files.write(file, data);
    }

    /** A base volume's snapshot: 8 MiB over a few files, a directory to be replaced and a file to be deleted. */
    private String baseSnapshot() throws IOException {
        VolumeRecord base = volume("base", null, Map.of());
        Path data = stage(base);
        writeRandom(data.resolve("big.bin"), 8 << 20, 1);
        Files.createDirectories(data.resolve("etc/conf.d"));
        Files.writeString(data.resolve("etc/conf.d/old.conf"), "old\n");
        Files.writeString(data.resolve("doomed.txt"), "deleted in the clones\n");
        Files.createSymbolicLink(data.resolve("link"), Path.of("big.bin"));
        return storage.createSnapshot("base-snap", base.id(), Map.of(), Secrets.NONE).id();
    }

    /** A clone of the base: its own file, one whiteout, one opaque directory. */
    private Path clone(String name, String baseSnapshot, long seed) throws IOException {
        VolumeRecord c = volume(name, new ContentSource(ContentSource.Kind.SNAPSHOT, baseSnapshot), Map.of());
        Path data = stage(c);
        writeRandom(data.resolve("own-" + name + ".bin"), 128 << 10, seed);
        Files.delete(data.resolve("doomed.txt"));
        Files.delete(data.resolve("etc/conf.d/old.conf"));
        Files.delete(data.resolve("etc/conf.d"));
        Files.createDirectories(data.resolve("etc/conf.d"));
        Files.writeString(data.resolve("etc/conf.d/new.conf"), name + "\n");
        return data;
    }

    @Test
    void twoClonesShareTheirBaseLayerAndAFreshNodeRestoresTheSameViews() throws Exception {
        startNode("a");
        String base = baseSnapshot();
        Path one = clone("one", base, 2);
        Path two = clone("two", base, 3);
        String oneId = volumeIdOf("one");

        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            try (OutputStream out = Files.newOutputStream(one.resolve("log"))) {
                while (writing.get()) {
                    out.write("a line the writer appends\n".getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        BackupSummary first;
        try {
            Thread.sleep(50);
            first = backUp("one-1", oneId);
        } finally {
            writing.set(false);
            writer.join();
        }
        BackupSummary second = backUp("two-1", volumeIdOf("two"));
        assertTrue(second.uploadedBytes() <= first.uploadedBytes() / 20, "the second clone uploads at most 5% of "
                + "the first: " + second.uploadedBytes() + " of " + first.uploadedBytes());
        assertTrue(second.readBytes() <= (128 << 10) + 64, "and reads only its own layer, the base's named by the "
                + "first clone's backup: " + second.readBytes());

        writeRandom(one.resolve("later.bin"), 64 << 10, 4);
        BackupSummary incremental = backUp("one-2", oneId);
        // the new layer holds what changed since one-1 was cut: the log the writer went on with, and later.bin
        long changed = Files.size(one.resolve("log")) + (64 << 10);
        assertTrue(incremental.readBytes() <= changed, "only the new layer is read, not the layers one-1 named: "
                + incremental.readBytes() + " of " + incremental.logicalBytes() + " bytes (" + changed + " changed)");

        Map<String, Map<String, String>> views = new TreeMap<>();
        for (String s : List.of("one-1", "two-1", "one-2")) {
            views.put(s, viewOf(s));
        }
        assertFalse(views.get("one-1").containsKey("doomed.txt"), "the whiteout hides the base's file");
        assertFalse(views.get("one-1").containsKey("etc/conf.d/old.conf"), "the opaque directory hides the base's");
        Map<String, String> sources = Map.of("one-1", from("one-1"), "two-1", from("two-1"), "one-2", from("one-2"));
        stopNode();

        startNode("b");
        for (String s : views.keySet()) {
            VolumeRecord restored = volume("restored-" + s, null, Map.of(BackupRef.FROM_PARAMETER, sources.get(s)));
            assertEquals(views.get(s), describe(stage(restored)), "the view of " + s);
        }
        try (Stream<Path> layers = Files.list(nodeDir.resolve("data/engines/overlay/layers"))) {
            // one-2 stacks on one-1's layer over the base's: the base, one-1's, two-1's and one-2's, each once
            assertEquals(4, layers.filter(l -> l.getFileName().toString().startsWith("layer-")).count());
        }
    }

    private String volumeIdOf(String name) {
        return storage.listVolumes().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow().id();
    }

    private String from(String snapshotName) throws IOException {
        return target() + "#" + snapshot(snapshotName).backup().name();
    }
}
