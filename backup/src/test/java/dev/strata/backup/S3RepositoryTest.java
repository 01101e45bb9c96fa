package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.testkit.S3Server;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/** Whole backups on S3: a real S3 server (S3Proxy) per test, a repository under a prefix of a bucket. */
class S3RepositoryTest {
    private static final byte[] KEY = "s3 test passphrase".getBytes(StandardCharsets.UTF_8);
    private static final String BUCKET = "backups";
    private static final String PREFIX = "cluster-1/pvc-a";

    @TempDir
    Path tmp;

    private S3Server server;
    private String url;
    private Path tree;

    @BeforeEach
    void setUp() throws Exception {
        server = S3Server.start(Files.createDirectory(tmp.resolve("s3")));
        server.createBucket(BUCKET);
        url = server.url(BUCKET, PREFIX);
        tree = Files.createDirectory(tmp.resolve("tree"));
        Files.createDirectories(tree.resolve("etc/conf.d"));
        Files.writeString(tree.resolve("etc/conf.d/app.conf"), "mode=production\n");
        Files.writeString(tree.resolve("README"), "hello, s3\n".repeat(100));
        TestTrees.writeRandom(tree.resolve("disk.img"), 20L << 20, 20);
        TestTrees.writeRandom(tree.resolve("etc/small.bin"), 300_000, 21);
        Files.createSymbolicLink(tree.resolve("link"), Path.of("README"));
        TestTrees.setMode(tree.resolve("etc/conf.d/app.conf"), 0600);
        TestTrees.setMtime(tree.resolve("etc"), 1_600_000_000L, 0);
    }

    @AfterEach
    void tearDown() throws Exception {
        server.close();
    }

    private BackupRepository open() throws IOException {
        return BackupRepository.open(S3TestTargets.target(url), KEY);
    }

    /** The keys stored under the repository's prefix, straight from S3, relative to that prefix. */
    private List<String> stored(String under) {
        return server.keys(BUCKET, PREFIX + "/" + under).stream().map(k -> k.substring(PREFIX.length() + 1)).toList();
    }

    private void assertRestores(BackupRepository repo, String name) throws IOException {
        Path into = Files.createDirectory(tmp.resolve("restore-" + name + "-" + System.nanoTime()));
        repo.restore(name, into);
        TestTrees.assertSameTree(tree, into);
    }

    @Test
    void encryptedBackupRoundTripsAndSecondBackupStoresNothingNew() throws Exception {
        BackupRepository repo = open();
        BackupSummary first = repo.backup(tree, "first", Map.of("volume", "pvc-a"), null);

        assertEquals(3 + 1, first.files());
        assertTrue(first.newChunks() >= 10, "20 MiB in chunks of about 1 MiB: " + first.newChunks());
        assertEquals(first.newChunks(), chunkIds(repo, "first").size());
        assertEquals(Set.of(), looseChunkIds(repo, "first"), "on S3 every chunk is packed");
        assertEquals(List.of(), stored("chunks/"));
        assertEquals(packKeys(repo, "first"), Set.copyOf(stored("packs/")));
        assertTrue(stored("packs/").size() <= 4, "20 MiB in packs of 8 MiB or so: " + stored("packs/"));
        assertEquals(List.of("backups/first"), stored("backups/"));
        assertEquals(List.of(), stored("locks/"), "the backup released its lock");
        assertRestores(repo, "first");
        assertTrue(repo.verify("first").ok());

        BackupRepository reopened = open(); // a new client, reading the config back
        BackupSummary again = reopened.backup(tree, "again", Map.of(), null);
        assertEquals(0, again.newChunks());
        assertEquals(0, again.uploadedBytes());
        assertEquals(first.chunks(), again.chunks());
        assertEquals(List.of(), stored("chunks/"));
        assertEquals(packKeys(repo, "first"), Set.copyOf(stored("packs/")), "no pack was added");
        assertEquals(List.of("again", "first"), reopened.list().stream().map(BackupSummary::name).sorted().toList());
        assertRestores(reopened, "again");

        TestTrees.assertFails(BackupException.Kind.WRONG_KEY, () -> BackupRepository.open(S3TestTargets.target(url), "nope".getBytes()));
        TestTrees.assertFails(BackupException.Kind.KEY_REQUIRED, () -> BackupRepository.open(S3TestTargets.target(url), null));
    }

    @Test
    void removeAndPruneDeleteTheUnsharedChunksOnS3() throws Exception {
        BackupRepository repo = open();
        repo.backup(tree, "one", Map.of(), null);
        TestTrees.writeRandom(tree.resolve("disk.img"), 20L << 20, 22); // new packs: none of its chunks is one's
        repo.backup(tree, "two", Map.of(), null);
        Set<String> onlyInOne = new HashSet<>(packKeys(repo, "one"));
        onlyInOne.removeAll(packKeys(repo, "two"));
        assertFalse(onlyInOne.isEmpty());

        PruneReport pruned = repo.remove("one");

        assertTrue(pruned.packsDeleted() >= onlyInOne.size(), pruned.toString());
        assertTrue(pruned.bytesDeleted() >= 16L << 20, "most of one's disk.img: " + pruned);
        for (String key : onlyInOne) {
            assertFalse(stored("packs/").contains(key), key);
        }
        assertEquals(List.of("backups/two"), stored("backups/"));
        assertEquals(List.of(), stored("locks/"));
        assertRestores(repo, "two");
        assertEquals(0, repo.prune(Duration.ZERO).chunksDeleted());
        // one's pack also holds chunks two still uses (README's): kept, or repacked, as two names them
        assertEquals(packKeys(repo, "two"), Set.copyOf(stored("packs/")));
        PruneReport last = repo.remove("two");
        assertEquals(List.of(), stored("packs/"), "no backup is left: every pack goes");
        assertTrue(last.packsDeleted() >= 1, last.toString());
        assertEquals(List.of(), stored("chunks/"));
    }

    /**
     * small.bin and five more files only one has are most of its pack: once one goes, what two names
     * of it moves to a new pack (ranged reads, HEADs). Two's share of that pack is README and
     * app.conf. disk.img is left out: on S3 its chunks are packed too, and where they fall depends
     * on where the chunker cuts, which depends on the repository's random key.
     */
    @Test
    void aPackMostlyDeadIsRepackedOnS3() throws Exception {
        BackupRepository repo = open();
        Files.delete(tree.resolve("disk.img"));
        for (int i = 0; i < 5; i++) {
            TestTrees.writeRandom(tree.resolve("etc/only-in-one-" + i + ".bin"), 300_000, 30 + i);
        }
        repo.backup(tree, "one", Map.of(), null);
        Set<String> onePacks = Set.copyOf(stored("packs/"));
        Files.delete(tree.resolve("etc/small.bin"));
        for (int i = 0; i < 5; i++) {
            Files.delete(tree.resolve("etc/only-in-one-" + i + ".bin"));
        }
        repo.backup(tree, "two", Map.of(), null);

        PruneReport pruned = repo.remove("one");

        assertEquals(1, pruned.packsRepacked(), pruned.toString());
        Set<String> now = Set.copyOf(stored("packs/"));
        assertTrue(now.stream().noneMatch(onePacks::contains), "one's pack is gone: " + now);
        assertEquals(packKeys(repo, "two"), now, "two names the new pack");
        assertEquals(List.of(), stored("locks/"));
        assertRestores(repo, "two");
        assertTrue(repo.verify("two").ok());
    }

    @Test
    void aChunkOverwrittenOnS3IsCorrupt() throws Exception {
        BackupRepository repo = open();
        repo.backup(tree, "b", Map.of(), null);
        Manifest.ChunkRef ref = repo.manifest("b").entries().stream().filter(e -> e.path().equals("etc/small.bin"))
                .findFirst().orElseThrow().chunks().get(0);
        assertTrue(ref.isPacked(), "a small file's chunk is in a pack, read by a ranged GET");
        String chunkId = ref.id();
        String object = PREFIX + "/" + ChunkStore.packKey(ref.pack());
        byte[] stored = server.sdk().getObjectAsBytes(b -> b.bucket(BUCKET).key(object)).asByteArray();
        stored[(int) ref.offset() + ref.stored() / 2] ^= 0x20;
        server.sdk().putObject(b -> b.bucket(BUCKET).key(object), RequestBody.fromBytes(stored));

        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupException e = TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restore("b", into));
        assertTrue(e.getMessage().contains(chunkId) && e.getMessage().contains("etc/small.bin"), e.getMessage());
        assertFalse(repo.verify("b").ok());

        server.sdk().deleteObject(b -> b.bucket(BUCKET).key(object));
        Path again = Files.createDirectory(tmp.resolve("again"));
        TestTrees.assertFails(BackupException.Kind.MISSING_CHUNK, () -> repo.restore("b", again));
    }

    /**
     * The server goes away part-way through a backup, after its first checkpoint: the backup fails
     * naming the URL and writes no manifest; once the server is back on the same port and
     * directory, the same backup completes, storing only what the checkpoint did not name, and
     * restores. On S3 every chunk is packed, and a pack no index names is found by nothing: without
     * the checkpoint the retry would store everything again.
     */
    @Test
    void aBackupCutOffByTheServerGoingDownResumesOnceItIsBack() throws Exception {
        TestTrees.writeRandom(tree.resolve("big.img"), 80L << 20, 23);
        long treeBytes = TestTrees.bytesIn(tree);
        S3Target s3 = S3TestTargets.target(url);
        BackupRepository.open(s3, KEY); // initialised while the server is up
        // The server stops for real at the first pack put that begins after the checkpoint (an index
        // put), once every put begun before has returned: packs are put on several threads. Without
        // checkpoints the first index is the backup's own, and no pack comes after it.
        AtomicInteger checkpointAt = new AtomicInteger(-1);
        AtomicBoolean stopped = new AtomicBoolean();
        AtomicReference<InterceptedTarget> self = new AtomicReference<>();
        InterceptedTarget target = new InterceptedTarget(s3, (key, index) -> {
            if (key.startsWith(IndexStore.PREFIX)) {
                checkpointAt.compareAndSet(-1, index);
            } else if (key.startsWith(ChunkStore.PACK_PREFIX) && checkpointAt.get() >= 0
                    && index > checkpointAt.get()) {
                self.get().awaitDone(checkpointAt.get() + 1);
                synchronized (stopped) {
                    if (!stopped.getAndSet(true)) {
                        stop(server);
                    }
                }
            }
        });
        self.set(target);
        BackupRepository repo = BackupRepository.open(target, KEY);

        IOException e = assertThrows(IOException.class, () -> repo.backup(tree, "cut", Map.of(), null));

        assertTrue(e.getMessage().contains(url) && e.getMessage().contains("Connection refused"), e.getMessage());
        server.restart();
        assertEquals(List.of(), stored("backups/"), "no manifest for the failed attempt");
        assertEquals(1, stored("index/").size(), "the checkpoint");
        assertTrue(stored("packs/").size() >= 8, "the 64 MiB it names: " + stored("packs/"));

        BackupSummary resumed = repo.backup(tree, "cut", Map.of(), null);

        assertTrue(resumed.uploadedBytes() < treeBytes - (60L << 20),
                "what the checkpoint named is not stored again: " + resumed + " of " + treeBytes);
        assertEquals(List.of("backups/cut"), stored("backups/"));
        assertRestores(open(), "cut");
    }

    /** A backup's own index names all its checkpoints did: they are deleted, one index is left. */
    @Test
    void aBackupDeletesItsCheckpoints() throws Exception {
        TestTrees.writeRandom(tree.resolve("big.img"), 80L << 20, 24);
        List<String> indexPuts = Collections.synchronizedList(new ArrayList<>());
        InterceptedTarget target = new InterceptedTarget(S3TestTargets.target(url), (key, index) -> {
            if (key.startsWith(IndexStore.PREFIX)) {
                indexPuts.add(key);
            }
        });

        BackupRepository.open(target, KEY).backup(tree, "big", Map.of(), null);

        assertEquals(2, indexPuts.size(), "a checkpoint after 64 MiB, then the backup's own: " + indexPuts);
        assertEquals(List.of(indexPuts.get(1)), stored("index/"));
        assertRestores(open(), "big");
    }

    private static Set<String> chunkIds(BackupRepository repo, String backup) throws IOException {
        return repo.manifest(backup).entries().stream().flatMap(e -> e.chunks().stream())
                .map(Manifest.ChunkRef::id).collect(Collectors.toSet());
    }

    /** The chunks of a backup stored as objects of their own: the others are in packs. */
    private static Set<String> looseChunkIds(BackupRepository repo, String backup) throws IOException {
        return repo.manifest(backup).entries().stream().flatMap(e -> e.chunks().stream())
                .filter(ref -> !ref.isPacked()).map(Manifest.ChunkRef::id).collect(Collectors.toSet());
    }

    private static Set<String> packKeys(BackupRepository repo, String backup) throws IOException {
        return repo.manifest(backup).entries().stream().flatMap(e -> e.chunks().stream())
                .filter(Manifest.ChunkRef::isPacked).map(ref -> ChunkStore.packKey(ref.pack()))
                .collect(Collectors.toSet());
    }

    private static void stop(S3Server server) {
        try {
            server.stop();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
