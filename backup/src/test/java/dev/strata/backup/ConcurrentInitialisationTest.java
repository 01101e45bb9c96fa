package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two opens of one empty target at once, on a target whose putIfAbsent is a check and then a put
 * (as on S3 servers that ignore If-None-Match, S3Proxy among them): a node opens its target ahead
 * of an upload while the upload opens it too. Each must end with the one config the target keeps,
 * so that what each then stores opens with it; and a backup whose config another driver replaced
 * must name nothing.
 */
class ConcurrentInitialisationTest {
    private static final byte[] KEY = "a tenant's passphrase".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    /**
     * How a snapshot's delete opens its target (an open would initialise an empty one): only a target
     * holding a config is one; opening another writes nothing.
     */
    @Test
    void onlyATargetHoldingItsConfigOpensAsExistingAndOpeningAnotherWritesNothing() throws Exception {
        String empty = TestTrees.url(Files.createDirectory(tmp.resolve("empty")));
        Path other = Files.createDirectory(tmp.resolve("other"));
        Files.writeString(other.resolve("notes.txt"), "not a backup target");
        assertTrue(BackupRepository.openExisting(empty, BackupSecrets.NONE).isEmpty());
        assertTrue(BackupRepository.openExisting(TestTrees.url(other), BackupSecrets.NONE).isEmpty());
        assertEquals(List.of(), BackupTarget.open(empty).list(""), "opening wrote nothing");
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> BackupRepository.open(TestTrees.url(other),
                BackupSecrets.NONE));

        BackupRepository.open(empty, BackupSecrets.NONE);
        assertTrue(BackupRepository.openExisting(empty, BackupSecrets.NONE).isPresent());
    }

    @Test
    void twoOpensOfAnEmptyTargetAtOnceShareOneConfig() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.writeRandom(tree.resolve("blob"), 1 << 20, 1);
        BackupTarget files = BackupTarget.open(TestTrees.url(tmp.resolve("target")));
        // Each config put waits (up to 2 s) for the other open to reach its own: without turns, both
        // have found the target empty and both put, each with its own salt and keys.
        CyclicBarrier bothPutting = new CyclicBarrier(2);
        BackupTarget racing = new InterceptedTarget(files, (key, index) -> {
            if (key.equals(RepositoryConfig.KEY)) {
                awaitQuietly(bothPutting);
            }
        });

        ExecutorService opens = Executors.newFixedThreadPool(2);
        List<BackupRepository> opened;
        try {
            Future<BackupRepository> first = opens.submit(() -> BackupRepository.open(racing, KEY));
            Future<BackupRepository> second = opens.submit(() -> BackupRepository.open(racing, KEY));
            opened = List.of(first.get(1, TimeUnit.MINUTES), second.get(1, TimeUnit.MINUTES));
        } finally {
            opens.shutdownNow();
        }
        opened.get(0).backup(tree, "ahead", Map.of(), null);
        opened.get(1).backup(tree, "upload", Map.of(), null);

        BackupRepository fresh = BackupRepository.open(files, KEY);
        assertEquals(List.of("ahead", "upload"), fresh.list().stream().map(BackupSummary::name).sorted().toList());
        for (String name : List.of("ahead", "upload")) {
            Path into = Files.createDirectory(tmp.resolve("into-" + name));
            fresh.restore(name, into);
            TestTrees.assertSameTree(tree, into);
        }
    }

    /**
     * Two drivers cannot take turns: when another one's config replaced the one a backup opened with,
     * the backup names nothing (BUSY, no index, no manifest), and its retry on a new open stores it.
     */
    @Test
    void aBackupWhoseConfigWasReplacedNamesNothingAndItsRetryStoresIt() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("tree"));
        TestTrees.writeRandom(tree.resolve("blob"), 1 << 20, 2);
        BackupTarget files = BackupTarget.open(TestTrees.url(tmp.resolve("target")));
        BackupRepository first = BackupRepository.open(files, KEY);
        BackupTarget other = BackupTarget.open(TestTrees.url(tmp.resolve("other")));
        BackupRepository.open(other, KEY);
        files.put(RepositoryConfig.KEY, other.get(RepositoryConfig.KEY)); // the other driver's put landed last

        BackupException e = TestTrees.assertFails(BackupException.Kind.BUSY,
                () -> first.backup(tree, "late", Map.of(), null));

        assertTrue(e.getMessage().contains("was replaced"), e.getMessage());
        assertEquals(List.of(), files.list("backups/"), "no manifest");
        assertEquals(List.of(), files.list(IndexStore.PREFIX), "no index");
        BackupRepository again = BackupRepository.open(files, KEY);
        again.backup(tree, "late", Map.of(), null);
        Path into = Files.createDirectory(tmp.resolve("into"));
        BackupRepository.open(files, KEY).restore("late", into);
        TestTrees.assertSameTree(tree, into);
    }

    private static void awaitQuietly(CyclicBarrier barrier) throws java.io.InterruptedIOException {
        try {
            barrier.await(2, TimeUnit.SECONDS);
        } catch (TimeoutException | BrokenBarrierException e) {
            // the other open is not putting at the same time: as it should be
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException();
        }
    }
}
