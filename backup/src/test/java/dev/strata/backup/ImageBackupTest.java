package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Device images backed up by blocks (thin volumes), on sparse files standing in for devices: only
 * the blocks a plan names are read, zeros are holes, an incremental backup reads and stores only
 * what changed, and a restore gives the same bytes. The thin engine's own test runs it on dm-thin in
 * the VM.
 */
class ImageBackupTest {
    private static final int BLOCK = 64 * 1024;
    private static final long SIZE = 64L * 1024 * 1024;

    @TempDir
    Path tmp;

    /** A file standing in for a device, counting the bytes read from it. */
    private static final class CountingImage implements BlockImage, AutoCloseable {
        final FileChannel channel;
        final BlockImage image;
        long read;

        CountingImage(Path file, long size) throws IOException {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            image = BlockImage.of(channel, size);
        }

        @Override
        public long sizeBytes() {
            return image.sizeBytes();
        }

        @Override
        public void read(long offset, ByteBuffer into) throws IOException {
            read += into.remaining();
            image.read(offset, into);
        }

        @Override
        public void write(long offset, ByteBuffer data) throws IOException {
            image.write(offset, data);
        }

        @Override
        public void flush() throws IOException {
            image.flush();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private Path device(String name) throws IOException {
        Path file = tmp.resolve(name);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            c.truncate(0);
            c.write(ByteBuffer.allocate(1), SIZE - 1); // sparse: reads zero, as a new thin device does
        }
        return file;
    }

    private static void writeRandom(Path device, long offset, int length, long seed) throws IOException {
        try (FileChannel c = FileChannel.open(device, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(TestTrees.random(length, seed)), offset);
        }
    }

    private static List<ImagePlan.Range> ranges(long... offsetsAndLengths) {
        List<ImagePlan.Range> ranges = new ArrayList<>();
        for (int i = 0; i < offsetsAndLengths.length; i += 2) {
            ranges.add(new ImagePlan.Range(offsetsAndLengths[i], offsetsAndLengths[i + 1]));
        }
        return ranges;
    }

    private BackupRepository repo(byte[] key) throws IOException {
        return BackupRepository.open(TestTrees.url(tmp.resolve("target")), BackupSecrets.keyOnly(key));
    }

    private int restores;

    private byte[] restored(BackupRepository repo, String name) throws IOException {
        Path into = device("restored-" + name + "-" + restores++);
        try (CountingImage image = new CountingImage(into, SIZE)) {
            repo.restoreImage(name, image);
        }
        return Files.readAllBytes(into);
    }

    /** A device with one block of data (random from {@code seed}), backed up as {@code name}. */
    private void backUpOneBlock(BackupRepository repo, String name, long seed) throws IOException {
        Path source = device("source-" + name);
        writeRandom(source, 0, BLOCK, seed);
        try (CountingImage image = new CountingImage(source, SIZE)) {
            repo.backupImage(image, ImagePlan.allocated(BLOCK, ranges(0, BLOCK)), name, Map.of());
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aFirstBackupReadsOnlyAllocatedBlocksAndAnIncrementalOnlyChangedOnes(boolean encrypted) throws Exception {
        BackupRepository repo = repo(encrypted ? "k3y".getBytes(StandardCharsets.UTF_8) : null);
        Path source = device("source");
        writeRandom(source, 0, 4096, 1); // a "superblock" in the first block
        writeRandom(source, 10L * BLOCK, 3 * BLOCK, 2);
        writeRandom(source, SIZE - BLOCK, BLOCK, 3); // the last block
        BackupSummary first;
        try (CountingImage image = new CountingImage(source, SIZE)) {
            first = repo.backupImage(image, ImagePlan.allocated(BLOCK, ranges(0, BLOCK, 10L * BLOCK, 3 * BLOCK,
                    SIZE - BLOCK, BLOCK)), "full", Map.of("engine", "thin"));
            assertEquals(5L * BLOCK, image.read, "only the allocated blocks are read");
        }
        assertEquals(5, first.newChunks());
        assertEquals(SIZE, first.logicalBytes());
        List<Manifest.ChunkRef> refs = repo.manifest("full").entries().get(0).chunks();
        assertEquals(7, refs.size(), "each run of holes is one ref: " + refs);
        assertArrayEquals(Files.readAllBytes(source), restored(repo, "full"));

        writeRandom(source, 11L * BLOCK + 100, 10, 4); // one block changed
        writeRandom(source, 30L * BLOCK, BLOCK, 5); // one block newly written
        BackupSummary second;
        try (CountingImage image = new CountingImage(source, SIZE)) {
            second = repo.backupImage(image, ImagePlan.changedSince("full", BLOCK, ranges(11L * BLOCK, BLOCK,
                    30L * BLOCK, BLOCK)), "incr", Map.of());
            assertEquals(2L * BLOCK, image.read, "only the changed blocks are read");
        }
        assertEquals(2, second.newChunks());
        assertEquals("full", second.parent());
        assertArrayEquals(Files.readAllBytes(source), restored(repo, "incr"));

        repo.remove("full");
        assertArrayEquals(Files.readAllBytes(source), restored(repo, "incr"), "the parent's removal keeps shared chunks");
        assertTrue(repo.verify("incr").ok());
    }

    @Test
    void aBlockThatReadsZeroIsAHoleAndARetriedNameIsHarmless() throws Exception {
        BackupRepository repo = repo(null);
        Path source = device("source");
        BackupSummary summary;
        try (CountingImage image = new CountingImage(source, SIZE)) {
            summary = repo.backupImage(image, ImagePlan.allocated(BLOCK, ranges(0, SIZE)), "zeros", Map.of());
            assertEquals(SIZE, image.read);
            assertEquals(summary, repo.backupImage(image, ImagePlan.allocated(BLOCK, ranges(0, SIZE)), "zeros",
                    Map.of()));
        }
        assertEquals(0, summary.newChunks());
        List<Manifest.ChunkRef> refs = repo.manifest("zeros").entries().get(0).chunks();
        assertEquals(List.of(new Manifest.ChunkRef(null, (int) SIZE)), refs);
        assertArrayEquals(new byte[(int) SIZE], restored(repo, "zeros"));
    }

    @Test
    void imagesAndTreesRestoreOnlyTheirOwnWayAndNeverOntoASmallerDevice() throws Exception {
        BackupRepository repo = repo(null);
        backUpOneBlock(repo, "image", 6);
        Path small = tmp.resolve("small");
        try (CountingImage device = new CountingImage(small, SIZE / 2)) {
            BackupException e = TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restoreImage("image",
                    device));
            assertTrue(e.getMessage().contains("has only " + SIZE / 2), e.getMessage());
        }
        assertEquals(0, Files.size(small), "nothing written");
        Path into = Files.createDirectory(tmp.resolve("into"));
        TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restore("image", into));

        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.writeString(tree.resolve("f"), "x");
        repo.backup(tree, "tree", Map.of(), null);
        try (CountingImage device = new CountingImage(device("other"), SIZE)) {
            TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.restoreImage("tree", device));
            TestTrees.assertFails(BackupException.Kind.INVALID, () -> repo.backupImage(device,
                    ImagePlan.changedSince("tree", BLOCK, List.of()), "child-of-a-tree", Map.of()));
        }
    }

    @Test
    void aCorruptOrMissingChunkFailsTheRestoreAndVerifyNamesIt() throws Exception {
        BackupRepository repo = repo(null);
        Path source = device("source");
        writeRandom(source, 0, 2 * BLOCK, 7);
        try (CountingImage image = new CountingImage(source, SIZE)) {
            repo.backupImage(image, ImagePlan.allocated(BLOCK, ranges(0, 2 * BLOCK)), "b", Map.of());
        }
        List<Manifest.ChunkRef> refs = repo.manifest("b").entries().get(0).chunks();
        // blocks of 64 KiB are packed: the first one's bytes flipped, the pack cut short in the second
        assertEquals(refs.get(0).pack(), refs.get(1).pack(), "one backup's blocks share a pack");
        Path pack = tmp.resolve("target").resolve(ChunkStore.packKey(refs.get(0).pack()));
        byte[] stored = Files.readAllBytes(pack);
        stored[(int) refs.get(0).offset() + refs.get(0).stored() / 2] ^= 1;
        Files.write(pack, Arrays.copyOf(stored, (int) refs.get(1).offset() + refs.get(1).stored() / 2));

        try (CountingImage device = new CountingImage(device("into"), SIZE)) {
            TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restoreImage("b", device));
        }
        VerifyReport report = repo.verify("b");
        assertFalse(report.ok());
        assertEquals(2, report.problems().size(), report.problems().toString());
    }

    @Test
    void aHostileImageManifestIsRefusedBeforeAnythingIsWritten() throws Exception {
        BackupRepository repo = repo(null);
        backUpOneBlock(repo, "good", 8);
        Manifest good = repo.manifest("good");
        Manifest.ChunkRef data = good.entries().get(0).chunks().get(0);
        List<List<Manifest.ChunkRef>> hostile = List.of(
                List.of(data), // adds up to less than the size
                List.of(data, new Manifest.ChunkRef(null, -5)), // a negative hole
                List.of(new Manifest.ChunkRef("../../etc/passwd", BLOCK), new Manifest.ChunkRef(null, (int) SIZE - BLOCK)));
        for (int i = 0; i < hostile.size(); i++) {
            Manifest.Entry entry = new Manifest.Entry(".", Manifest.Entry.IMAGE, 0, 0, 0, 0, SIZE, 0, null,
                    hostile.get(i));
            repo.writeManifest(new Manifest(Manifest.VERSION, "bad-" + i, Instant.now(), Map.of(), null,
                    List.of(entry), good.summary()));
            Path into = device("into-" + i);
            int n = i;
            try (CountingImage device = new CountingImage(into, SIZE)) {
                TestTrees.assertFails(BackupException.Kind.CORRUPT, () -> repo.restoreImage("bad-" + n, device));
            }
            assertArrayEquals(new byte[(int) SIZE], Files.readAllBytes(into), "nothing written for bad-" + i);
        }
        assertNull(repo.manifest("good").parent());
    }

    @Test
    void aLargeRandomImageRoundTrips() throws Exception {
        BackupRepository repo = repo(null);
        Path source = device("source");
        Random random = new Random(9);
        List<ImagePlan.Range> written = new ArrayList<>();
        for (long offset = 0; offset < SIZE; offset += 4L * BLOCK) {
            if (random.nextInt(3) == 0) {
                writeRandom(source, offset + 4096, BLOCK, random.nextLong());
                written.add(new ImagePlan.Range(offset + 4096, BLOCK));
            }
        }
        try (CountingImage image = new CountingImage(source, SIZE)) {
            repo.backupImage(image, ImagePlan.allocated(BLOCK, written), "random", Map.of());
            assertEquals(2L * written.size() * BLOCK, image.read, "each write spans two blocks");
        }
        assertArrayEquals(Files.readAllBytes(source), restored(repo, "random"));
    }
}
