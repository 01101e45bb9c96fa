package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Format 2 names packs; a target written before packs holds format 1 manifests, which still restore. */
class ManifestVersionTest {
    @TempDir
    Path tmp;

    @Test
    void aFormatOneManifestOfLooseChunksStillRestoresAndAnUnknownFormatIsRefused() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        // 512 KiB each, the chunker's minimum: one chunk a file, whatever the repository's gear seed
        // cuts, and none under 512 KiB, so none packed (a bigger file's tail may be either)
        for (int i = 0; i < 3; i++) {
            TestTrees.writeRandom(tree.resolve("big" + i + ".bin"), 512 << 10, 5 + i);
        }
        BackupRepository repo = BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.NONE);
        repo.backup(tree, "now", Map.of(), null);
        Manifest now = repo.manifest("now");
        assertTrue(now.entries().stream().flatMap(e -> e.chunks().stream()).noneMatch(Manifest.ChunkRef::isPacked));

        repo.writeManifest(new Manifest(1, "old", now.createdAt(), Map.of(), null, now.entries(), now.summary()));
        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("old", into);
        TestTrees.assertSameTree(tree, into);
        assertTrue(repo.verify("old").ok());

        repo.writeManifest(new Manifest(Manifest.VERSION + 1, "future", now.createdAt(), Map.of(), null,
                now.entries(), now.summary()));
        BackupException e = TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.manifest("future"));
        assertTrue(e.getMessage().contains("has version " + (Manifest.VERSION + 1)), e.getMessage());
    }

    /** A packed ref with an impossible place is refused before anything is read or written. */
    @Test
    void aPackedRefOutOfShapeIsRefused() {
        String id = "a".repeat(64);
        int max = 4 << 20;
        assertTrue(ChunkStore.isValidRef(new Manifest.ChunkRef(id, 10, "b".repeat(64), 0, 40), max));
        assertFalse(ChunkStore.isValidRef(new Manifest.ChunkRef(id, 10, "../../etc/passwd", 0, 40), max));
        assertFalse(ChunkStore.isValidRef(new Manifest.ChunkRef(id, 10, "b".repeat(64), -1, 40), max));
        assertFalse(ChunkStore.isValidRef(new Manifest.ChunkRef(id, 10, "b".repeat(64), 0, 0), max));
        assertFalse(ChunkStore.isValidRef(new Manifest.ChunkRef(id, 10, "b".repeat(64), 0, max + 65), max));
        assertFalse(ChunkStore.isValidRef(new Manifest.ChunkRef(id, 10, null, 5, 0), max), "a loose chunk has no offset");
    }
}
