package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Packs more than half dead give their space back, and small packs are merged; every backup
 * restores through every step of that. A verify reads a pack's chunks at once.
 */
class RepackTest {
    private static final byte[] KEY = "repack-test-key".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private Path small;
    private Path target;

    @BeforeEach
    void setUp() throws IOException {
        small = Files.createDirectory(tmp.resolve("small"));
        for (int i = 0; i < 20; i++) {
            TestTrees.writeRandom(small.resolve("f" + i), 3000 + i, 100 + i);
        }
        target = tmp.resolve("target");
    }

    private BackupRepository open(boolean encrypted) throws IOException {
        return BackupRepository.open(TestTrees.url(target), encrypted ? BackupSecrets.keyOnly(KEY.clone())
                : BackupSecrets.NONE);
    }

    private BackupTarget raw() throws IOException {
        return BackupTarget.open(TestTrees.url(target));
    }

    private List<String> storedPacks() throws IOException {
        return raw().list("packs/");
    }

    private long storedPackBytes() throws IOException {
        long bytes = 0;
        for (String key : storedPacks()) {
            bytes += raw().size(key);
        }
        return bytes;
    }

    /** Backs up all twenty files as "one", then only the first {@code kept} of them and a new file as "two". */
    private String oneThenTwoKeeping(BackupRepository repo, int kept) throws IOException {
        repo.backup(small, "one", Map.of(), null);
        List<String> onePack = storedPacks();
        assertEquals(1, onePack.size(), "twenty small files, one pack: " + onePack);
        for (int i = kept; i < 20; i++) {
            Files.delete(small.resolve("f" + i));
        }
        TestTrees.writeRandom(small.resolve("new"), 5000, 7);
        repo.backup(small, "two", Map.of(), null);
        return onePack.get(0);
    }

    private void assertRestores(BackupRepository repo, String name, String into) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve(into));
        repo.restore(name, dir);
        TestTrees.assertSameTree(small, dir);
        VerifyReport report = repo.verify(name);
        assertEquals(List.of(), report.problems(), name + " verifies");
        assertTrue(report.chunksChecked() > 0, report.toString());
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aPackMostlyDeadMovesItsLiveChunksAndGoes(boolean encrypted) throws Exception {
        BackupRepository repo = open(encrypted);
        String onePack = oneThenTwoKeeping(repo, 1);
        long before = storedPackBytes();

        PruneReport pruned = repo.remove("one");

        assertEquals(1, pruned.packsRepacked(), pruned.toString());
        assertEquals(1, pruned.packsDeleted(), pruned.toString());
        assertFalse(storedPacks().contains(onePack), "one's pack is gone");
        assertEquals(2, storedPacks().size(), "two's own pack, and f0's chunk in a new one: " + storedPacks());
        long after = storedPackBytes();
        assertTrue(before - after > 19 * 3000, "freed " + (before - after) + " bytes of " + before);
        assertTrue(pruned.bytesDeleted() > before - after, "one's pack counted whole: " + pruned);
        assertRestores(repo, "two", "into-two");
        assertEquals(0, TestTrees.countFiles(target, "locks"), "no lock left");

        PruneReport again = repo.prune(Duration.ZERO);
        assertEquals(0, again.packsRepacked(), "nothing more to move: " + again);
        repo.remove("two");
        assertEquals(List.of(), storedPacks());
    }

    @Test
    void aPackHalfLiveOrMoreStaysAsItIs() throws Exception {
        BackupRepository repo = open(false);
        String onePack = oneThenTwoKeeping(repo, 12);

        PruneReport pruned = repo.remove("one");

        assertEquals(0, pruned.packsRepacked(), pruned.toString());
        assertTrue(storedPacks().contains(onePack));
        assertRestores(repo, "two", "into-two");
    }

    @Test
    void aReaderKeepsThePacksWhereTheyAreUntilItIsDone() throws Exception {
        BackupRepository repo = open(false);
        String onePack = oneThenTwoKeeping(repo, 1);

        try (Locks.Held reading = new Locks(raw()).holdForReading()) {
            PruneReport pruned = repo.remove("one");
            assertEquals(0, pruned.packsRepacked(), pruned.toString());
            assertTrue(storedPacks().contains(onePack), "a reader may need one's pack");
        }
        PruneReport later = repo.prune(Duration.ZERO);

        assertEquals(1, later.packsRepacked(), later.toString());
        assertFalse(storedPacks().contains(onePack));
        assertRestores(repo, "two", "into-two");
    }

    @Test
    void aRemovalWaitsForARepackAndChangesNothing() throws Exception {
        BackupRepository repo = open(false);
        oneThenTwoKeeping(repo, 1);

        try (Locks.Lock repacking = new Locks(raw()).tryAcquireRepack().orElseThrow()) {
            TestTrees.assertFails(BackupException.Kind.BUSY, () -> repo.remove("one"));
            assertTrue(repo.exists("one"), "the manifest a repack could rewrite is still there");
        }
        repo.remove("one");
        assertFalse(repo.exists("one"));
    }

    /** A rewrite cut off (a server gone) leaves the old pack named and whole; the next prune finishes. */
    @Test
    void aRepackCutOffLeavesEveryBackupRestorable() throws Exception {
        BackupRepository repo = open(false);
        String onePack = oneThenTwoKeeping(repo, 1);
        BackupRepository failing = BackupRepository.open(new InterceptedTarget(raw(), (key, index) -> {
            if (key.equals("backups/two")) {
                throw new IOException("injected failure writing " + key);
            }
        }), null);

        IOException e = assertThrows(IOException.class, () -> failing.remove("one"));

        assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
        assertTrue(storedPacks().contains(onePack), "two still names one's pack");
        assertEquals(3, storedPacks().size(), "and the new pack, named by nothing yet");
        assertRestores(repo, "two", "into-two");
        PruneReport finished = repo.prune(Duration.ZERO);
        assertEquals(1, finished.packsRepacked(), finished.toString());
        assertEquals(2, storedPacks().size(), "the orphan new pack and one's pack are gone: " + storedPacks());
        assertRestores(repo, "two", "into-two-again");
    }

    /**
     * Two backups that stored one chunk at once name it in two packs: a prune keeps both, where it
     * counted only the pack it met first and deleted the other.
     */
    @Test
    void twoPacksHoldingOneChunkAreBothKept() throws Exception {
        BackupRepository repo = open(false);
        for (int i = 1; i < 20; i++) {
            Files.delete(small.resolve("f" + i));
        }
        repo.backup(small, "a", Map.of(), null);
        String packA = storedPacks().get(0);
        String packB = ChunkStore.newPackName();
        raw().put(ChunkStore.packKey(packB), raw().get(packA)); // a copy: the same chunk, sealed the same
        Manifest a = repo.manifest("a");
        Manifest b = new Manifest(a.version(), "b", a.createdAt(), a.labels(), null, a.entries().stream()
                .map(entry -> entry.withChunks(entry.chunks().stream()
                        .map(ref -> ref.in(packB, ref.offset(), ref.stored())).toList())).toList(), a.summary());
        repo.writeManifest(b);

        PruneReport pruned = repo.prune(Duration.ZERO);

        assertEquals(0, pruned.packsDeleted(), pruned.toString());
        repo.remove("a");
        assertEquals(List.of(ChunkStore.packKey(packB)), storedPacks(), "a's pack went with a alone");
        assertRestores(repo, "b", "into-b");
    }

    /**
     * Each small backup leaves one small pack: they stay apart until their live chunks would fill a
     * pack, then one prune merges them into a full pack and what is left over, and the next prune
     * leaves that remainder alone.
     */
    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void smallPacksAreMergedOnceTheyWouldFillAPack(boolean encrypted) throws Exception {
        BackupRepository repo = open(encrypted);
        List<Path> trees = new java.util.ArrayList<>();
        for (int b = 0; b < 3; b++) {
            Path tree = Files.createDirectory(tmp.resolve("small-backup-" + b));
            for (int i = 0; i < 32; i++) { // 3.2 MB of chunks under PACKED_BELOW: one pack under SMALL_PACK_BYTES
                TestTrees.writeRandom(tree.resolve("f" + i), 100_000, 1000L * b + i);
            }
            trees.add(tree);
            repo.backup(tree, "b" + b, Map.of(), null);
            if (b == 1) {
                PruneReport twoSmall = repo.prune(Duration.ZERO);
                assertEquals(0, twoSmall.packsRepacked(), "two small packs do not fill one: " + twoSmall);
                assertEquals(2, storedPacks().size());
            }
        }
        List<String> before = storedPacks();
        assertEquals(3, before.size(), before.toString());

        PruneReport merged = repo.prune(Duration.ZERO);

        assertEquals(3, merged.packsRepacked(), merged.toString());
        List<String> after = storedPacks();
        assertEquals(2, after.size(), "a full pack and the remainder: " + after);
        assertTrue(after.stream().noneMatch(before::contains), "the small packs went: " + after);
        long largest = 0;
        for (String key : after) {
            largest = Math.max(largest, raw().size(key));
        }
        // full: the next chunk of 100 kB would have taken it past PACK_BYTES
        assertTrue(largest > PackFiller.PACK_BYTES - 100_100 && largest <= PackFiller.PACK_BYTES,
                "one pack is full: " + largest);
        assertEquals(0, repo.prune(Duration.ZERO).packsRepacked(), "the remainder alone stays");
        for (int b = 0; b < 3; b++) {
            Path dir = Files.createDirectory(tmp.resolve("into-b" + b));
            repo.restore("b" + b, dir);
            TestTrees.assertSameTree(trees.get(b), dir);
            assertEquals(List.of(), repo.verify("b" + b).problems(), "b" + b + " verifies");
        }
    }

    /**
     * Verify reads a pack's chunks with one request (restic's check reads by pack too), and a restore
     * the chunks that lie one after another in a pack: not one request per small file.
     */
    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void verifyAndRestoreReadAPacksChunksAtOnce(boolean encrypted) throws Exception {
        open(encrypted).backup(small, "one", Map.of(), null);
        InterceptedTarget counting = new InterceptedTarget(raw(), (key, index) -> {});
        BackupRepository repo = BackupRepository.open(counting, encrypted ? KEY.clone() : null);

        VerifyReport report = repo.verify("one");
        assertTrue(report.ok(), report.problems().toString());
        assertEquals(20, report.chunksChecked(), report.toString());
        assertEquals(1, packReads(counting), counting.reads.toString());

        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("one", into);
        TestTrees.assertSameTree(small, into);
        assertEquals(2, packReads(counting), "one more for the restore: " + counting.reads);
    }

    private static long packReads(InterceptedTarget target) {
        return target.reads.stream().filter(k -> k.startsWith("packs/")).count();
    }
}
