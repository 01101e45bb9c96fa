package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UntrustedManifestTest {
    @TempDir
    Path tmp;

    private BackupRepository repo;
    private Path outside;
    private Path into;

    @BeforeEach
    void setUp() throws Exception {
        repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        outside = Files.createDirectory(tmp.resolve("outside"));
        into = Files.createDirectories(tmp.resolve("restore/into"));
    }

    private static Manifest.Entry dir(String path) {
        return new Manifest.Entry(path, "dir", 0755, 0, 0, 0, 0, 1, null, List.of());
    }

    private static Manifest.Entry file(String path) {
        return new Manifest.Entry(path, "file", 0644, 0, 0, 0, 0, 2, null, List.of());
    }

    private static Manifest.Entry symlink(String path, String target) {
        return new Manifest.Entry(path, "symlink", 0777, 0, 0, 0, 0, 3, target, List.of());
    }

    private void assertRefused(String name, Manifest.Entry... entries) throws Exception {
        List<Manifest.Entry> all = new ArrayList<>(List.of(dir(".")));
        all.addAll(List.of(entries));
        BackupSummary summary = new BackupSummary(name, Instant.now(), Map.of(), null, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        repo.writeManifest(new Manifest(Manifest.VERSION, name, Instant.now(), Map.of(), null, all, summary));

        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore(name, into));

        assertEquals(List.of(), list(outside), "nothing written outside");
        assertEquals(List.of(into), list(tmp.resolve("restore")), "nothing written beside the restore directory");
        assertEquals(List.of(), list(into), "nothing written before the manifest was checked");
        assertTrue(!Files.exists(Path.of("/abs")) && !Files.exists(tmp.resolve("restore/escape")));
    }

    private static List<Path> list(Path dir) throws Exception {
        try (Stream<Path> children = Files.list(dir)) {
            return children.toList();
        }
    }

    @Test
    void refusesAParentEscape() throws Exception {
        assertRefused("escape", file("../escape"));
        assertRefused("inner-escape", dir("a"), file("a/../../escape"));
    }

    @Test
    void refusesAnAbsolutePath() throws Exception {
        assertRefused("absolute", file("/abs"));
    }

    @Test
    void refusesWritingThroughASymlinkItMade() throws Exception {
        assertRefused("through-link", file("fine"), symlink("link", outside.toString()), file("link/x"));
        assertRefused("under-a-file", file("plain"), file("plain/x"));
    }

    @Test
    void refusesUnnormalisedDuplicateAndOrphanPaths() throws Exception {
        assertRefused("dot", file("./x"));
        assertRefused("double-slash", dir("a"), file("a//x"));
        assertRefused("duplicate", file("x"), file("x"));
        assertRefused("orphan", file("missing-dir/x"));
        assertRefused("second-root", dir("."));
    }

    @Test
    void refusesChunksThatDoNotAddUp() throws Exception {
        Manifest.Entry lying = new Manifest.Entry("f", "file", 0644, 0, 0, 0, 10, 2, null,
                List.of(new Manifest.ChunkRef("a".repeat(64), 5)));
        assertRefused("lying-size", lying);
        Manifest.Entry badId = new Manifest.Entry("f", "file", 0644, 0, 0, 0, 5, 2, null,
                List.of(new Manifest.ChunkRef("../../config", 5)));
        assertRefused("bad-id", badId);
    }
}
