package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CorruptionTest {
    @TempDir
    Path tmp;

    private BackupRepository repo;
    private Path target;
    private String chunkId;

    private void backUp(boolean encrypted) throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
        // over the chunker's 512 KiB minimum: its first chunk is an object of its own, not in a pack
        TestTrees.writeRandom(tree.resolve("victim.bin"), 600_000, 11);
        Files.writeString(tmp.resolve("tree/other.txt"), "fine");
        Files.writeString(tmp.resolve("tree/sub/small.txt"), "also fine, and longer");
        target = tmp.resolve("target");
        byte[] key = encrypted ? "k3y".getBytes(StandardCharsets.UTF_8) : null;
        repo = BackupRepository.open(TestTrees.url(target), BackupSecrets.keyOnly(key));
        repo.backup(tmp.resolve("tree"), "b", Map.of(), null);
        chunkId = repo.manifest("b").entries().stream().filter(e -> e.path().equals("sub/victim.bin"))
                .findFirst().orElseThrow().chunks().get(0).id();
    }

    private Path chunkFile() {
        return target.resolve(ChunkStore.key(chunkId));
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aFlippedByteIsCorruptionNamingChunkAndFile(boolean encrypted) throws Exception {
        backUp(encrypted);
        byte[] stored = Files.readAllBytes(chunkFile());
        stored[stored.length / 2] ^= 0x20;
        Files.write(chunkFile(), stored);

        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupException e = TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("b", into));
        assertTrue(e.getMessage().contains(chunkId) && e.getMessage().contains("sub/victim.bin"), e.getMessage());

        VerifyReport report = repo.verify("b");
        assertFalse(report.ok());
        assertEquals(1, report.problems().size());
        assertTrue(report.problems().get(0).contains(chunkId) && report.problems().get(0).contains("sub/victim.bin"),
                report.problems().toString());
        assertEquals(repo.manifest("b").summary().chunks(), report.chunksChecked());
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aDeletedChunkIsMissing(boolean encrypted) throws Exception {
        backUp(encrypted);
        Files.delete(chunkFile());

        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupException e = TestTrees.assertFails(BackupException.Kind.MISSING_CHUNK, () -> repo.restore("b", into));
        assertTrue(e.getMessage().contains(chunkId) && e.getMessage().contains("sub/victim.bin"), e.getMessage());
        VerifyReport report = repo.verify("b");
        assertEquals(1, report.problems().size());
        assertTrue(report.problems().get(0).contains("missing"), report.problems().toString());
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aChunkSwappedForAnotherIsCorruption(boolean encrypted) throws Exception {
        backUp(encrypted);
        Manifest.ChunkRef other = packedRef("other.txt"); // its stored form, whole, in place of the victim's
        byte[] pack = Files.readAllBytes(packFile(other));
        Files.write(chunkFile(), java.util.Arrays.copyOfRange(pack, (int) other.offset(),
                (int) other.offset() + other.stored()));

        Path into = Files.createDirectory(tmp.resolve("into"));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("b", into));
        assertFalse(repo.verify("b").ok());
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aDamagedManifestIsCorruption(boolean encrypted) throws Exception {
        backUp(encrypted);
        Path manifest = target.resolve("backups/b");
        byte[] stored = Files.readAllBytes(manifest);
        stored[stored.length - 3] ^= 1;
        Files.write(manifest, stored);
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.manifest("b"));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.prune(java.time.Duration.ZERO));
        assertTrue(Files.exists(chunkFile()), "a prune that cannot read every manifest must delete nothing");
    }

    private Manifest.ChunkRef packedRef(String path) throws Exception {
        Manifest.ChunkRef ref = repo.manifest("b").entries().stream().filter(e -> e.path().equals(path))
                .findFirst().orElseThrow().chunks().get(0);
        assertTrue(ref.isPacked(), path + " is small: its chunk is in a pack");
        return ref;
    }

    private Path packFile(Manifest.ChunkRef ref) {
        return target.resolve(ChunkStore.packKey(ref.pack()));
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aFlippedByteInAPackIsCorruptionOfThatChunkOnly(boolean encrypted) throws Exception {
        backUp(encrypted);
        Manifest.ChunkRef ref = packedRef("other.txt");
        byte[] stored = Files.readAllBytes(packFile(ref));
        stored[(int) ref.offset() + ref.stored() - 1] ^= 0x20;
        Files.write(packFile(ref), stored);

        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupException e = TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("b", into));
        assertTrue(e.getMessage().contains(ref.id()) && e.getMessage().contains("other.txt"), e.getMessage());
        VerifyReport report = repo.verify("b");
        assertEquals(1, report.problems().size(), report.problems().toString());
        assertTrue(report.problems().get(0).contains(ref.id()), report.problems().toString());
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aDeletedOrTruncatedPackIsMissingOrCorrupt(boolean encrypted) throws Exception {
        backUp(encrypted);
        Manifest.ChunkRef ref = packedRef("other.txt");
        Path pack = packFile(ref);
        Files.write(pack, java.util.Arrays.copyOf(Files.readAllBytes(pack), (int) ref.offset() + ref.stored() - 1));
        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupException cut = TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("b", into));
        assertTrue(cut.getMessage().contains("ends before"), cut.getMessage());
        VerifyReport cutReport = repo.verify("b");
        assertTrue(cutReport.problems().stream().anyMatch(p -> p.contains(ref.id()) && p.contains("ends before")),
                cutReport.problems().toString());
        assertTrue(cutReport.problems().stream().allMatch(p -> p.contains("ends before")), cutReport.problems().toString());

        Files.delete(pack);
        Path again = Files.createDirectory(tmp.resolve("again"));
        BackupException gone = TestTrees.assertFails(BackupException.Kind.MISSING_CHUNK, () -> repo.restore("b", again));
        assertTrue(gone.getMessage().contains(ref.pack()) && gone.getMessage().contains("other.txt"), gone.getMessage());
        VerifyReport report = repo.verify("b");
        assertFalse(report.ok());
        assertTrue(report.problems().stream().allMatch(p -> p.contains("missing")), report.problems().toString());
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aPackedChunkMovedWithinItsPackIsCorruption(boolean encrypted) throws Exception {
        backUp(encrypted);
        Manifest.ChunkRef other = packedRef("other.txt");
        Manifest.ChunkRef tail = packedRef("sub/small.txt");
        assertEquals(other.pack(), tail.pack(), "one backup's small chunks share a pack");
        // other.txt's place in the pack overwritten by small.txt's chunk: each is sealed with its own ID
        Path pack = packFile(other);
        byte[] stored = Files.readAllBytes(pack);
        byte[] swapped = java.util.Arrays.copyOf(stored, stored.length);
        int n = Math.min(other.stored(), tail.stored());
        System.arraycopy(stored, (int) tail.offset(), swapped, (int) other.offset(), n);
        Files.write(pack, swapped);
        Path into = Files.createDirectory(tmp.resolve("into"));
        TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("b", into));
    }
}
