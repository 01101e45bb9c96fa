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
        TestTrees.writeRandom(tree.resolve("victim.bin"), 300_000, 11);
        Files.writeString(tmp.resolve("tree/other.txt"), "fine");
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
        assertEquals(2, report.chunksChecked());
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
        String otherId = repo.manifest("b").entries().stream().filter(e -> e.path().equals("other.txt"))
                .findFirst().orElseThrow().chunks().get(0).id();
        Files.copy(target.resolve(ChunkStore.key(otherId)), chunkFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

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
}
