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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backup learns what the target holds from its indexes, not from every manifest; an index that is
 * stale, unreadable or missing costs at most chunks stored again, never a reference to something
 * that is not there.
 */
class IndexTest {
    private static final byte[] KEY = "index-test-key".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private Path tree;
    private Path target;

    /** Thirty small files (packed) and one of 3 MiB (chunks of their own, and a packed tail). */
    @BeforeEach
    void setUp() throws IOException {
        tree = Files.createDirectory(tmp.resolve("tree"));
        for (int i = 0; i < 30; i++) {
            TestTrees.writeRandom(tree.resolve("f" + i), 2000 + i, 300 + i);
        }
        TestTrees.writeRandom(tree.resolve("big"), 3 << 20, 9);
        target = tmp.resolve("target");
    }

    private BackupTarget raw() throws IOException {
        return BackupTarget.open(TestTrees.url(target));
    }

    private static byte[] key(boolean encrypted) {
        return encrypted ? KEY.clone() : null;
    }

    private InterceptedTarget counting() throws IOException {
        return new InterceptedTarget(raw(), (key, index) -> {});
    }

    private static List<String> manifestsRead(InterceptedTarget target) {
        return target.reads.stream().filter(key -> key.startsWith(ManifestStore.PREFIX)).toList();
    }

    private void assertRestores(BackupRepository repo, String name) throws IOException {
        Path into = Files.createDirectory(tmp.resolve("into-" + name));
        repo.restore(name, into);
        TestTrees.assertSameTree(tree, into);
        assertEquals(List.of(), repo.verify(name).problems(), name + " verifies");
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aNewBackupReadsTheIndexesAndNoManifest(boolean encrypted) throws Exception {
        BackupSummary one = BackupRepository.open(raw(), key(encrypted)).backup(tree, "one", Map.of(), null);
        InterceptedTarget counting = counting();
        BackupRepository repo = BackupRepository.open(counting, key(encrypted));

        BackupSummary two = repo.backup(tree, "two", Map.of(), null);

        assertTrue(one.newChunks() > 30, one.toString());
        assertEquals(0, two.newChunks(), "every chunk known from one's index: " + two);
        assertEquals(List.of(), manifestsRead(counting));
        assertTrue(counting.reads.stream().anyMatch(key -> key.startsWith(IndexStore.PREFIX)),
                counting.reads.toString());
        assertEquals(2, raw().list(IndexStore.PREFIX).size(), "one index per backup");
        assertRestores(repo, "two");
    }

    @Test
    void anOlderDriversBackupsAreReadByTheirManifestsOnceThenIndexed() throws Exception {
        BackupRepository.open(raw(), null).backup(tree, "one", Map.of(), null);
        for (String key : raw().list(IndexStore.PREFIX)) {
            raw().delete(key); // as a driver from before indexes left it
        }
        InterceptedTarget first = counting();
        BackupSummary two = BackupRepository.open(first, null).backup(tree, "two", Map.of(), null);
        InterceptedTarget second = counting();
        BackupSummary three = BackupRepository.open(second, null).backup(tree, "three", Map.of(), null);

        assertEquals(0, two.newChunks(), two.toString());
        assertEquals(List.of("backups/one"), manifestsRead(first));
        assertEquals(0, three.newChunks(), three.toString());
        assertEquals(List.of(), manifestsRead(second), "two's index took one in");

        BackupRepository.open(raw(), null).prune(Duration.ofHours(1));
        InterceptedTarget third = counting();
        BackupRepository repo = BackupRepository.open(third, null);
        BackupSummary four = repo.backup(tree, "four", Map.of(), null);

        assertEquals(0, four.newChunks(), four.toString());
        assertEquals(List.of(), manifestsRead(third), "the prune's index covers every manifest");
        assertEquals(2, raw().list(IndexStore.PREFIX).size(), "the prune's, and four's");
        assertRestores(repo, "four");
    }

    /** Indexes from before a prune put back (as a crash could leave them) name deleted chunks and packs. */
    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void entriesForWhatAPruneDeletedAreNotTrusted(boolean encrypted) throws Exception {
        BackupRepository repo = BackupRepository.open(raw(), key(encrypted));
        BackupSummary one = repo.backup(tree, "one", Map.of(), null);
        Map<String, byte[]> before = new HashMap<>();
        for (String key : raw().list(IndexStore.PREFIX)) {
            before.put(key, raw().get(key));
        }

        repo.remove("one");
        assertEquals(List.of(), raw().list(ChunkStore.PACK_PREFIX), "one's packs are gone");
        assertEquals(List.of(), raw().list(ChunkStore.PREFIX), "and its chunks");
        for (var stale : before.entrySet()) {
            raw().put(stale.getKey(), stale.getValue());
        }
        BackupSummary again = repo.backup(tree, "again", Map.of(), null);

        assertEquals(one.newChunks(), again.newChunks(), "everything stored again: " + again);
        assertRestores(repo, "again");
    }

    @Test
    void anIndexThatCannotBeReadIsSkippedAndTheManifestsItCoveredAreRead() throws Exception {
        BackupRepository.open(raw(), KEY.clone()).backup(tree, "one", Map.of(), null);
        List<String> indexes = raw().list(IndexStore.PREFIX);
        assertEquals(1, indexes.size(), indexes.toString());
        byte[] stored = raw().get(indexes.get(0));
        stored[stored.length / 2] ^= 1;
        raw().put(indexes.get(0), stored);
        InterceptedTarget counting = counting();
        BackupRepository repo = BackupRepository.open(counting, KEY.clone());

        BackupSummary two = repo.backup(tree, "two", Map.of(), null);

        assertEquals(0, two.newChunks(), two.toString());
        assertEquals(List.of("backups/one"), manifestsRead(counting));
        Path into = Files.createDirectory(tmp.resolve("into-two"));
        repo.restore("two", into);
        TestTrees.assertSameTree(tree, into);
        List<String> problems = repo.verify("two").problems();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("the index " + indexes.get(0) + " in ")
                && problems.get(0).contains(" is corrupt: ") && problems.get(0).endsWith("a prune rewrites it"),
                problems.get(0));
        repo.prune(Duration.ofHours(1));
        assertEquals(List.of(), repo.verify("two").problems(), "the prune rewrote the indexes");
    }

    /**
     * An index entry that places a chunk where it is not would have the next backup of the same
     * content reference that place: verify reports it. Entries naming a pack that is gone are stale,
     * which backups do not trust, and verify does not report them.
     */
    @Test
    void verifyReportsAnIndexEntryPlacingAChunkWhereItIsNot() throws Exception {
        BackupRepository repo = BackupRepository.open(raw(), null);
        repo.backup(tree, "one", Map.of(), null);
        IndexStore indexes = new IndexStore(raw(), new ChunkCodec(null), 4 << 20);
        List<Manifest.ChunkRef> packed = indexes.readForCheck(indexes.keys().get(0)).index().packed();
        Manifest.ChunkRef moved = packed.get(0);
        Manifest.ChunkRef other = packed.stream().filter(ref -> ref.pack().equals(moved.pack())
                && ref.offset() != moved.offset()).findFirst().orElseThrow();
        Manifest.ChunkRef gone = packed.get(1);
        String wrong = indexes.write(List.of(), List.of(packed.get(2).id()), List.of(
                new Manifest.ChunkRef(moved.id(), moved.size()).in(moved.pack(), other.offset(), other.stored()),
                new Manifest.ChunkRef(gone.id(), gone.size()).in("0".repeat(64), 0, gone.stored())));
        raw().put(ChunkStore.key(packed.get(2).id()), "not the chunk".getBytes(StandardCharsets.UTF_8));

        List<String> problems = repo.verify("one").problems();

        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("chunk " + moved.id() + " as the index " + wrong + " places it (pack "
                + moved.pack() + " at " + other.offset() + ") is corrupt: "), problems.get(0));
        assertTrue(problems.get(1).startsWith("chunk " + packed.get(2).id() + " as the index " + wrong
                + " places it (stored alone) is corrupt: "), problems.get(1));
        assertTrue(problems.stream().allMatch(p -> p.endsWith("a prune rewrites the indexes from the manifests")),
                problems.toString());
        repo.prune(Duration.ZERO);
        assertEquals(List.of(), repo.verify("one").problems(), "the prune rewrote the indexes");
    }

    /** The index lands, the manifest does not (a server gone between them): the retry stores nothing again. */
    @Test
    void aBackupCutOffBetweenItsIndexAndItsManifestIsRetriedWhole() throws Exception {
        AtomicBoolean failed = new AtomicBoolean();
        BackupRepository repo = BackupRepository.open(new InterceptedTarget(raw(), (key, index) -> {
            if (key.equals("backups/one") && !failed.getAndSet(true)) {
                throw new IOException("injected failure writing " + key);
            }
        }), null);

        IOException e = assertThrows(IOException.class, () -> repo.backup(tree, "one", Map.of(), null));
        assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
        assertFalse(repo.exists("one"));
        BackupSummary retried = repo.backup(tree, "one", Map.of(), null);

        assertEquals(0, retried.newChunks(), "the first try's chunks known from its index: " + retried);
        repo.prune(Duration.ZERO);
        assertRestores(repo, "one");
    }

    /** A repack moves the live chunks of a mostly dead pack; its index gives the next backup their new places. */
    @Test
    void aRepackIndexesTheNewPlacesForTheNextBackup() throws Exception {
        Files.delete(tree.resolve("big")); // one pack of small files alone
        BackupRepository repo = BackupRepository.open(raw(), null);
        repo.backup(tree, "one", Map.of(), null);
        for (int i = 1; i < 30; i++) {
            Files.delete(tree.resolve("f" + i));
        }
        repo.backup(tree, "two", Map.of(), null);
        PruneReport pruned = repo.remove("one");
        assertEquals(1, pruned.packsRepacked(), pruned.toString());
        InterceptedTarget counting = counting();
        BackupRepository next = BackupRepository.open(counting, null);

        BackupSummary three = next.backup(tree, "three", Map.of(), null);

        assertEquals(0, three.newChunks(), "f0's chunk known at its new place: " + three);
        assertEquals(List.of(), manifestsRead(counting));
        assertRestores(next, "three");
    }
}
