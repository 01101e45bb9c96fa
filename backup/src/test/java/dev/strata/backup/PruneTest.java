package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruneTest {
    @TempDir
    Path tmp;

    private Path tree;
    private Path target;
    private BackupRepository repo;

    @BeforeEach
    void setUp() throws Exception {
        tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.writeRandom(tree.resolve("shared.bin"), 3 << 20, 1);
        TestTrees.writeRandom(tree.resolve("unique.bin"), 2 << 20, 2);
        target = tmp.resolve("target");
        repo = BackupRepository.open(TestTrees.url(target), BackupSecrets.NONE);
    }

    private Set<String> chunkIds(String backup) throws IOException {
        return repo.manifest(backup).entries().stream().flatMap(e -> e.chunks().stream())
                .map(Manifest.ChunkRef::id).collect(Collectors.toSet());
    }

    /** The chunks of a backup stored as objects of their own: the others are in packs. */
    private Set<String> looseChunkIds(String backup) throws IOException {
        return repo.manifest(backup).entries().stream().flatMap(e -> e.chunks().stream())
                .filter(ref -> !ref.isPacked()).map(Manifest.ChunkRef::id).collect(Collectors.toSet());
    }

    private long looseSizes(String backup, Set<String> ids) throws IOException {
        return repo.manifest(backup).entries().stream().flatMap(e -> e.chunks().stream())
                .filter(ref -> ids.contains(ref.id())).distinct().mapToLong(Manifest.ChunkRef::size).sum();
    }

    private List<String> storedPacks() throws IOException {
        return BackupTarget.open(TestTrees.url(target)).list("packs/");
    }

    /**
     * Two files of 700 KiB: each is one chunk stored alone, whatever the repository's random seed
     * (a second cut would need 512 KiB on each side), and a tail under 512 KiB at most, which goes
     * into a pack. With them a backup stores at least four chunks alone before it puts any pack, so
     * a target failing after four puts keeps the lock and exactly three chunks. shared.bin and
     * unique.bin alone are two to six such chunks as the seed cuts them: with two, the pack was the
     * fourth put and landed, and CI saw two orphan chunks instead of three.
     */
    private void addFilesOfOneLooseChunkEach() throws IOException {
        TestTrees.writeRandom(tree.resolve("one-chunk-a.bin"), 700 << 10, 4);
        TestTrees.writeRandom(tree.resolve("one-chunk-b.bin"), 700 << 10, 5);
    }

    private long storedChunks() throws IOException {
        return BackupTarget.open(TestTrees.url(target)).list("chunks/").size();
    }

    @Test
    void removeDeletesOnlyChunksNoOtherBackupUses() throws Exception {
        repo.backup(tree, "one", Map.of(), null);
        TestTrees.writeRandom(tree.resolve("unique.bin"), 2 << 20, 3);
        repo.backup(tree, "two", Map.of(), null);
        Set<String> onlyInOne = new HashSet<>(looseChunkIds("one"));
        onlyInOne.removeAll(chunkIds("two"));
        assertFalse(onlyInOne.isEmpty());
        // unique.bin's first version, but for its tail when that was cut under 512 KiB (packed with
        // shared.bin's, which "two" still uses): where the cuts fall depends on the repository's seed
        long onlyInOneBytes = looseSizes("one", onlyInOne);
        assertTrue(onlyInOneBytes > (2 << 20) - ChunkUploader.PACKED_BELOW, "unique.bin's loose chunks: " + onlyInOneBytes);
        long before = storedChunks();

        PruneReport pruned = repo.remove("one");

        assertEquals(onlyInOne.size(), pruned.chunksDeleted());
        assertTrue(pruned.bytesDeleted() >= onlyInOneBytes, // random bytes are stored uncompressed
                "deleted " + pruned.bytesDeleted() + " bytes of " + onlyInOneBytes);
        assertEquals(before - onlyInOne.size(), storedChunks());
        assertEquals(storedChunks(), pruned.chunksKept());
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> repo.summary("one"));
        assertEquals(List.of("two"), repo.list().stream().map(BackupSummary::name).toList());
        assertTrue(repo.verify("two").ok());
        Path into = Files.createDirectory(tmp.resolve("into"));
        repo.restore("two", into);
        TestTrees.assertSameTree(tree, into);
        assertEquals(0, repo.remove("one").chunksDeleted(), "removing a missing backup is a no-op");
        assertEquals(0, repo.prune(Duration.ZERO).chunksDeleted(), "nothing was left to prune");
    }

    @Test
    void aRunningBackupStopsAPruneUntilItsLockIsStale() throws Exception {
        repo.backup(tree, "one", Map.of(), null);
        BackupTarget raw = BackupTarget.open(TestTrees.url(target));
        raw.put("locks/backup-other-host", "{}".getBytes());
        assertTrue(repo.remove("one").skippedBusy(), "remove's prune waits for the other host's backup");
        long orphans = storedChunks();
        assertTrue(orphans > 0);

        PruneReport busy = repo.prune(Duration.ZERO);

        assertTrue(busy.skippedBusy());
        assertEquals(0, busy.chunksDeleted());
        assertEquals(orphans, storedChunks());
        assertEquals(List.of("locks/backup-other-host"), raw.list("locks/"), "the prune released its own lock");

        Files.setLastModifiedTime(target.resolve("locks/backup-other-host"),
                FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        PruneReport done = repo.prune(Duration.ZERO);

        assertFalse(done.skippedBusy());
        assertEquals(orphans, done.chunksDeleted());
        assertEquals(List.of(), raw.list("locks/"), "the stale lock was deleted");
    }

    @Test
    void aLockOfAProcessOfThisHostThatDiedIsStaleAtOnce() throws Exception {
        repo.backup(tree, "one", Map.of(), null);
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String host = java.lang.management.ManagementFactory.getRuntimeMXBean().getName().replaceFirst("^\\d+@", "");
        BackupTarget raw = BackupTarget.open(TestTrees.url(target));
        raw.put("locks/backup-killed", ("{\"kind\":\"backup\",\"holder\":\"" + gone.pid() + "@" + host
                + "\",\"createdAt\":\"" + Instant.now() + "\"}").getBytes());
        raw.put("locks/backup-other-host", ("{\"kind\":\"backup\",\"holder\":\"1@elsewhere\",\"createdAt\":\""
                + Instant.now() + "\"}").getBytes());
        assertTrue(repo.remove("one").skippedBusy(), "the other host's backup may still run");
        raw.delete("locks/backup-other-host");

        PruneReport done = repo.prune(Duration.ZERO);

        assertFalse(done.skippedBusy(), "a killed driver's lock holds nothing back");
        assertTrue(done.chunksDeleted() > 0);
        assertEquals(List.of(), raw.list("locks/"), "the dead holder's lock was deleted");
    }

    /**
     * A restarted container's driver often runs with its predecessor's pid (1): a lock naming this
     * pid but another start time is a dead predecessor's, stale at once; with this start time, ours,
     * which holds while this process holds it, and is stale at once when it does not (its release
     * failed: the server was down when a failed upload let go of it).
     */
    @Test
    void aLockOfAnEarlierProcessWithThisPidOrOneThisProcessNoLongerHoldsIsStaleAtOnce() throws Exception {
        repo.backup(tree, "one", Map.of(), null);
        String holder = java.lang.management.ManagementFactory.getRuntimeMXBean().getName();
        BackupTarget raw = BackupTarget.open(TestTrees.url(target));
        try (Locks.Lock held = new Locks(raw).acquireBackup()) {
            assertTrue(repo.remove("one").skippedBusy(), "this process's own backup lock holds");
        }
        raw.put("locks/backup-release-failed", Json.write(new Locks.LockInfo("backup", holder, Instant.now(),
                Locks.HOLDER_STARTED)));
        raw.put("locks/backup-before-restart", Json.write(new Locks.LockInfo("backup", holder, Instant.now(),
                Locks.HOLDER_STARTED.minusSeconds(600))));

        PruneReport done = repo.prune(Duration.ZERO);

        assertFalse(done.skippedBusy(), "neither the predecessor's lock nor the one let go holds anything back");
        assertTrue(done.chunksDeleted() > 0);
        assertEquals(List.of(), raw.list("locks/"), "both were deleted");
    }

    @Test
    void aRunningPruneMakesABackupBusy() throws Exception {
        BackupTarget raw = BackupTarget.open(TestTrees.url(target));
        raw.put("locks/prune-other-host", "{}".getBytes());

        BackupException e = TestTrees.assertFails(BackupException.Kind.BUSY,
                () -> repo.backup(tree, "one", Map.of(), null));

        assertTrue(e.getMessage().contains("a prune of " + repo.url() + " is running; retry"), e.getMessage());
        assertEquals(List.of("locks/prune-other-host"), raw.list("locks/"));
        assertEquals(0, storedChunks());
    }

    /**
     * A file target's chunks are durable only at the flush before their manifest: a power cut before
     * it can leave an orphan torn (here: emptied). The next backup must write such chunks again,
     * never count them as stored.
     */
    @Test
    void orphansOfACutShortBackupAreWrittenAgainNotTrusted() throws Exception {
        addFilesOfOneLooseChunkEach();
        BackupRepository failing = BackupRepository.open(InterceptedTarget.failingAfter(BackupTarget.open(TestTrees.url(target)), 4), null);
        assertThrows(IOException.class, () -> failing.backup(tree, "cut", Map.of(), null));
        List<Path> orphans;
        try (var files = Files.walk(target.resolve("chunks"))) {
            orphans = files.filter(Files::isRegularFile).toList();
        }
        assertEquals(3, orphans.size());
        for (Path orphan : orphans) {
            Files.write(orphan, new byte[0]); // what a power cut before the flush may leave
        }

        BackupSummary done = repo.backup(tree, "cut", Map.of(), null);

        assertTrue(done.newChunks() >= 3, "the torn orphans were stored again: " + done);
        assertTrue(repo.verify("cut").ok(), repo.verify("cut").problems().toString());
        Path into = Files.createDirectory(tmp.resolve("into-torn"));
        repo.restore("cut", into);
        TestTrees.assertSameTree(tree, into);
    }

    /**
     * A delete that stops an upload interrupts it; if that lands in the sync after the lock's rename,
     * the put fails with the lock in place. The lock is released all the same: left behind by a live
     * process, it would hold off every prune for an hour (RemoteSnapshotTest caught one in CI).
     */
    @Test
    void aLockWhoseFirstWriteFailedAfterLandingIsReleased() throws Exception {
        BackupTarget real = BackupTarget.open(TestTrees.url(target));
        BackupRepository backupLockFails = BackupRepository.open(
                InterceptedTarget.failingAfterLanding(real, key -> key.startsWith("locks/backup-")), null);
        assertThrows(java.io.InterruptedIOException.class, () -> backupLockFails.backup(tree, "cut", Map.of(), null));
        assertEquals(0, TestTrees.countFiles(target, "locks"), "the backup's lock was released");

        BackupRepository pruneLockFails = BackupRepository.open(
                InterceptedTarget.failingAfterLanding(real, key -> key.startsWith("locks/prune-")), null);
        assertThrows(java.io.InterruptedIOException.class, () -> pruneLockFails.prune(Duration.ZERO));
        assertEquals(0, TestTrees.countFiles(target, "locks"), "the prune's lock was released");
    }

    @Test
    void anInterruptedBackupLeavesOrphansThatOnlyAPastGraceCollects() throws Exception {
        addFilesOfOneLooseChunkEach();
        BackupRepository failing = BackupRepository.open(InterceptedTarget.failingAfter(BackupTarget.open(TestTrees.url(target)), 4), null);

        IOException e = assertThrows(IOException.class, () -> failing.backup(tree, "cut", Map.of(), null));

        assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
        TestTrees.assertFails(BackupException.Kind.NOT_FOUND, () -> repo.summary("cut"));
        assertEquals(List.of(), repo.list());
        assertEquals(3, storedChunks(), "lock plus three chunks got through");
        assertEquals(0, TestTrees.countFiles(target, "locks"), "the failed backup released its lock");

        PruneReport young = repo.prune(Duration.ofHours(1));
        assertEquals(0, young.chunksDeleted());
        assertEquals(3, young.chunksKept());

        PruneReport old = repo.prune(Duration.ZERO);
        assertEquals(3, old.chunksDeleted());
        assertEquals(0, storedChunks());
    }

    /**
     * A pack goes once no manifest references a chunk in it, and not before: one backup's small
     * files share a pack, and a later backup that keeps over half of it keeps the whole pack (one
     * more than half dead is repacked: RepackTest).
     */
    @Test
    void aPackGoesWhenItsLastReferencedChunkDoes() throws Exception {
        Path small = Files.createDirectory(tmp.resolve("small"));
        for (int i = 0; i < 20; i++) {
            TestTrees.writeRandom(small.resolve("f" + i), 3000 + i, 100 + i);
        }
        repo.backup(small, "one", Map.of(), null);
        List<String> onePack = storedPacks();
        assertEquals(1, onePack.size(), "twenty small files, one pack: " + onePack);
        for (int i = 11; i < 20; i++) {
            Files.delete(small.resolve("f" + i));
        }
        TestTrees.writeRandom(small.resolve("new"), 5000, 7);
        repo.backup(small, "two", Map.of(), null);
        assertEquals(2, storedPacks().size(), "the new file's chunk is in a pack of its own");

        PruneReport first = repo.remove("one");
        assertEquals(0, first.packsDeleted(), "f0 to f10, which two still uses, keep one's pack: " + first);
        assertEquals(0, first.packsRepacked(), "over half of it is live");
        assertEquals(2, storedPacks().size());
        Path into = Files.createDirectory(tmp.resolve("into-two"));
        repo.restore("two", into);
        TestTrees.assertSameTree(small, into);

        BackupRepository.open(TestTrees.url(target), BackupSecrets.NONE).backup(small, "three", Map.of(), null);
        assertEquals(2, storedPacks().size(), "three stores nothing new: its chunks are found in two's packs");
        repo.remove("two");
        assertEquals(2, storedPacks().size(), "three names the chunks of both packs");
        PruneReport last = repo.remove("three");
        assertEquals(2, last.packsDeleted());
        assertTrue(last.bytesDeleted() > 3000 + 5000, last.toString());
        assertEquals(List.of(), storedPacks());
    }

    /** A backup that fails before its manifest deletes the packs it wrote: a retry would leave new ones. */
    @Test
    void aFailedBackupDeletesThePacksItWrote() throws Exception {
        Path small = Files.createDirectory(tmp.resolve("many"));
        for (int i = 0; i < 3000; i++) {
            TestTrees.writeRandom(small.resolve("f" + i), 5000, 1000 + i); // 15 MB: two packs at least
        }
        java.util.concurrent.atomic.AtomicInteger packs = new java.util.concurrent.atomic.AtomicInteger();
        BackupTarget real = BackupTarget.open(TestTrees.url(target));
        BackupRepository failing = BackupRepository.open(new InterceptedTarget(real, (key, index) -> {
            if (key.startsWith("packs/") && packs.incrementAndGet() == 2) {
                throw new IOException("injected failure writing " + key);
            }
        }), null);

        IOException e = assertThrows(IOException.class, () -> failing.backup(small, "cut", Map.of(), null));

        assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
        assertTrue(packs.get() >= 2, "the first pack was put before the second failed");
        assertEquals(List.of(), storedPacks(), "the pack that got through was deleted");
        assertEquals(0, TestTrees.countFiles(target, "locks"));
        repo.backup(small, "cut", Map.of(), null);
        Path into = Files.createDirectory(tmp.resolve("into-many"));
        repo.restore("cut", into);
        TestTrees.assertSameTree(small, into);
    }
}
