package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Overlay snapshots backed up by layers, on plain directories standing in for layers: a layer is
 * stored once per target by its content, so a second snapshot that shares the lower layers uploads
 * only its own; whiteouts and opaque directories come back; a layer no backup names goes with the
 * last one that did; and a layer whose content is not what its name says is refused. The overlay
 * engine's own test runs it on real overlayfs layers.
 */
class LayerBackupTest {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;

    /**
     * Marks as overlayfs's "userxattr" mounts keep them, in the user namespace Java reads and writes;
     * whiteouts by mknod, as root.
     */
    static final LayerMarks USER_XATTR_MARKS = new LayerMarks() {
        @Override
        public boolean isOpaque(Path directory) throws IOException {
            return view(directory).list().contains("overlay.opaque");
        }

        @Override
        public void makeWhiteout(Path directory, String name) throws IOException {
            mknodWhiteout(directory.resolve(name));
        }

        @Override
        public void makeOpaque(Path directory) throws IOException {
            view(directory).write("overlay.opaque", ByteBuffer.wrap("y".getBytes(StandardCharsets.UTF_8)));
        }

        private UserDefinedFileAttributeView view(Path directory) {
            return Files.getFileAttributeView(directory, UserDefinedFileAttributeView.class, NOFOLLOW);
        }
    };

    @TempDir
    Path tmp;

    @BeforeEach
    void needsRoot() {
        assumeTrue(new UnixSystem().getUid() == 0, "whiteouts are character devices, which only root makes");
    }

    static void mknodWhiteout(Path path) throws IOException {
        try {
            Process p = new ProcessBuilder("mknod", path.toString(), "c", "0", "0").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("mknod " + path + ": " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private BackupRepository repo(byte[] key) throws IOException {
        return BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.keyOnly(key));
    }

    /** A base layer: 4 MiB of data, a directory marked opaque, and a whiteout. */
    private Path baseLayer() throws IOException {
        Path base = Files.createDirectories(tmp.resolve("layers/base"));
        TestTrees.writeRandom(base.resolve("big"), 4 << 20, 1);
        Path etc = Files.createDirectories(base.resolve("etc"));
        Files.writeString(etc.resolve("config"), "base\n");
        USER_XATTR_MARKS.makeOpaque(etc);
        mknodWhiteout(base.resolve("deleted"));
        return base;
    }

    private Path upperLayer(String name, long seed) throws IOException {
        Path upper = Files.createDirectories(tmp.resolve("layers/" + name));
        TestTrees.writeRandom(upper.resolve("own-" + name), 64 << 10, seed);
        return upper;
    }

    private List<Layer> chain(Path upper, Path base) {
        return List.of(new Layer(upper.getFileName() + "@1", upper), new Layer("base@1", base));
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void twoClonesOfOneSnapshotStoreTheSharedLayerOnce(boolean encrypted) throws Exception {
        BackupRepository repo = repo(encrypted ? "k3y".getBytes(StandardCharsets.UTF_8) : null);
        Path base = baseLayer();
        BackupSummary first = repo.backupLayers(chain(upperLayer("one", 2), base), "clone-one", Map.of(), List.of(),
                USER_XATTR_MARKS);
        // nothing known: the shared layer is read again, found by its content, and not stored again
        BackupSummary second = repo.backupLayers(chain(upperLayer("two", 3), base), "clone-two", Map.of(), List.of(),
                USER_XATTR_MARKS);
        assertTrue(second.uploadedBytes() <= first.uploadedBytes() / 20, "the second uploads at most 5% of the "
                + "first: " + second.uploadedBytes() + " of " + first.uploadedBytes());
        List<String> oneLayers = repo.layersOf("clone-one");
        List<String> twoLayers = repo.layersOf("clone-two");
        assertEquals(oneLayers.get(1), twoLayers.get(1), "the base layer is one backup");
        assertNotEquals(oneLayers.get(0), twoLayers.get(0));
        assertEquals(List.of("clone-one", "clone-two"), repo.list().stream().map(BackupSummary::name).toList(),
                "layers are parts of backups, not listed as backups");

        // told of the first, a third backup does not read the shared layer at all
        BackupSummary third = repo.backupLayers(chain(upperLayer("three", 4), base), "clone-three", Map.of(),
                List.of("clone-one"), USER_XATTR_MARKS);
        assertEquals(64 << 10, third.readBytes(), "only the new upper layer is read");
        assertEquals(twoLayers.get(1), repo.layersOf("clone-three").get(1));
        assertTrue(repo.verify("clone-three").ok());
    }

    @Test
    void aLayerComesBackWithItsWhiteoutsAndOpaqueDirectories() throws Exception {
        BackupRepository repo = repo(null);
        Path base = baseLayer();
        TestTrees.setMtime(base.resolve("etc"), 1_700_000_000L, 123_456_789);
        repo.backupLayers(chain(upperLayer("one", 2), base), "snap", Map.of(), List.of(), USER_XATTR_MARKS);
        Path into = Files.createDirectories(tmp.resolve("restored"));
        repo.restoreLayer(repo.layersOf("snap").get(1), into, USER_XATTR_MARKS);

        assertArrayEquals(Files.readAllBytes(base.resolve("big")), Files.readAllBytes(into.resolve("big")));
        assertEquals("base\n", Files.readString(into.resolve("etc/config")));
        assertTrue(USER_XATTR_MARKS.isOpaque(into.resolve("etc")), "the opaque mark is back");
        assertFalse(USER_XATTR_MARKS.isOpaque(into), "and only where it was");
        assertEquals(Files.getLastModifiedTime(base.resolve("etc")), Files.getLastModifiedTime(into.resolve("etc")));
        Map<String, Object> whiteout = Files.readAttributes(into.resolve("deleted"), "unix:*", NOFOLLOW);
        assertEquals(S_IFCHR, (Integer) whiteout.get("mode") & S_IFMT, "a character device");
        assertEquals(0L, whiteout.get("rdev"), "0/0, a whiteout");
    }

    @Test
    void aLayerGoesWithTheLastBackupThatNamesIt() throws Exception {
        BackupRepository repo = repo(null);
        Path base = baseLayer();
        repo.backupLayers(chain(upperLayer("one", 2), base), "one", Map.of(), List.of(), USER_XATTR_MARKS);
        repo.backupLayers(chain(upperLayer("two", 3), base), "two", Map.of(), List.of(), USER_XATTR_MARKS);
        String shared = repo.layersOf("two").get(1);
        String ownOfOne = repo.layersOf("one").get(0);

        repo.remove("one");
        Path manifests = tmp.resolve("target/backups");
        assertTrue(Files.exists(manifests.resolve(shared)), "two still names the shared layer");
        assertFalse(Files.exists(manifests.resolve(ownOfOne)), "one's own layer went with it");
        assertTrue(repo.verify("two").ok(), "two's chunks all stayed");
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.remove(shared));

        repo.remove("two");
        assertEquals(0, TestTrees.countFiles(tmp.resolve("target"), "backups"));
        assertEquals(0, TestTrees.countFiles(tmp.resolve("target"), "chunks"), "no chunk is left");
    }

    @Test
    void aLayerNoBackupNamesYetIsKeptForTheGracePeriod() throws Exception {
        BackupRepository repo = repo(null);
        repo.backupLayers(chain(upperLayer("one", 2), baseLayer()), "one", Map.of(), List.of(), USER_XATTR_MARKS);
        List<String> layers = repo.layersOf("one");
        Files.delete(tmp.resolve("target/backups/one")); // as a backup killed before its own manifest leaves them
        repo.prune(Duration.ofHours(1));
        assertTrue(Files.exists(tmp.resolve("target/backups/" + layers.get(0))), "young: a backup may be about to "
                + "name it");
        repo.prune(Duration.ZERO);
        assertEquals(0, TestTrees.countFiles(tmp.resolve("target"), "backups"));
        assertEquals(0, TestTrees.countFiles(tmp.resolve("target"), "chunks"));
    }

    @Test
    void eachKindOfBackupRestoresOnlyItsOwnWayAndNamesAreChecked() throws Exception {
        BackupRepository repo = repo(null);
        Path base = baseLayer();
        repo.backupLayers(chain(upperLayer("one", 2), base), "snap", Map.of(), List.of(), USER_XATTR_MARKS);
        String layer = repo.layersOf("snap").get(1);
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.writeString(tree.resolve("f"), "x");
        repo.backup(tree, "plain", Map.of(), null);
        Path into = Files.createDirectories(tmp.resolve("into"));

        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restore("snap", into));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restore(layer, into));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restoreLayer("plain", into, USER_XATTR_MARKS));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.layersOf("plain"));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.backup(tree, "layer-mine", Map.of(), null));
        assertEquals(0, TestTrees.countFiles(into, "."), "nothing was written");
    }

    /** A backup made before layers existed may start with "layer-": only the prefix and an ID is a layer. */
    @Test
    void onlyALayerPrefixAndAnIdIsTakenForALayer() throws Exception {
        BackupRepository repo = repo(null);
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.writeString(tree.resolve("f"), "kept");
        repo.backup(tree, "plain", Map.of(), null);
        Manifest plain = repo.manifest("plain");
        repo.writeManifest(new Manifest(Manifest.VERSION, "layer-old", Instant.EPOCH, Map.of(), null, plain.entries(),
                plain.summary()));
        repo.prune(Duration.ZERO);
        assertTrue(repo.list().stream().anyMatch(b -> b.name().equals("plain")));
        assertEquals(2, repo.list().size(), "layer-old is listed as the backup it is");
        Path into = Files.createDirectories(tmp.resolve("into"));
        repo.restore("layer-old", into);
        assertEquals("kept", Files.readString(into.resolve("f")), "and was neither pruned nor taken for a layer");
    }

    @Test
    void hostileLayersAreRefusedBeforeAnythingIsWritten() throws Exception {
        BackupRepository repo = repo(null);
        Path base = baseLayer();
        repo.backupLayers(chain(upperLayer("one", 2), base), "snap", Map.of(), List.of(), USER_XATTR_MARKS);
        String layer = repo.layersOf("snap").get(1);
        Manifest stored = repo.manifest(layer);
        Path into = Files.createDirectories(tmp.resolve("into"));

        // a layer whose content is not what its name says: another file slipped in
        List<Manifest.Entry> swapped = new java.util.ArrayList<>(stored.entries());
        swapped.add(new Manifest.Entry("planted", Manifest.Entry.FILE, 0644, 0, 0, 0, 0, 9, null, List.of()));
        repo.writeManifest(new Manifest(Manifest.VERSION, layer, Instant.now(), Map.of(), null, swapped,
                stored.summary()));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restoreLayer(layer, into, USER_XATTR_MARKS));
        assertFalse(repo.verify("snap").ok());

        // a plain tree that smuggles a whiteout, and an overlay snapshot that names no layer
        Manifest.Entry root = new Manifest.Entry(".", Manifest.Entry.DIR, 0755, 0, 0, 0, 0, 1, null, List.of());
        repo.writeManifest(new Manifest(Manifest.VERSION, "smuggler", Instant.now(), Map.of(), null, List.of(root,
                new Manifest.Entry("w", Manifest.Entry.WHITEOUT, 0, 0, 0, 0, 0, 2, null, List.of())),
                stored.summary()));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("smuggler", into));
        repo.writeManifest(new Manifest(Manifest.VERSION, "escape", Instant.now(), Map.of(), null, List.of(
                new Manifest.Entry("k", Manifest.Entry.LAYER, 0, 0, 0, 0, 0, 0, "../chunks/x", List.of())),
                stored.summary()));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.layersOf("escape"));
        assertEquals(0, TestTrees.countFiles(into, "."), "nothing was written");
    }
}
