package dev.strata.node.engine.thin;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.metrics.Sample;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.mount.Mounter;
import io.grpc.Status.Code;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool on sparse files grows online while a writer fills it, on a real dm-thin pool in the VM: the
 * writer never sees an error and another volume's data is untouched. A pool that cannot grow refuses
 * new volumes once it is under its low-water mark, before it is full.
 */
@Tag("vm")
@Timeout(900)
class ThinPoolGrowthVmTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path tmp;

    private ThinPoolScratch scratch;
    private CommandRunner runner;
    private Path root;
    private ThinEngine engine;

    @BeforeEach
    void needsDeviceMapper() throws IOException {
        scratch = new ThinPoolScratch(tmp);
        runner = scratch.runner;
        root = scratch.root;
    }

    @AfterEach
    void removeEverything() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (scratch != null) {
            scratch.removeEverything();
        }
    }

    /** A pool of {@code dataBytes} on files, growing up to {@code maxBytes}, a low-water mark of 4 MiB. */
    private ThinEngine open(long dataBytes, long maxBytes, long pollMillis) throws IOException {
        ThinPoolConfig files = ThinPoolConfig.files(root.resolve("pool"), maxBytes, 8);
        ThinPoolConfig config = new ThinPoolConfig(files.data(), files.metadata(), dataBytes, files.metadataBytes(),
                ThinPoolConfig.DEFAULT_CHUNK_SECTORS, 64, true, 8, maxBytes, pollMillis);
        ThinEngine e = new ThinEngine(root, config, new Mounter(), runner);
        e.start();
        return e;
    }

    private static VolumeRecord block(String id, long bytes) {
        return ThinPoolScratch.volume(id, bytes, AccessType.BLOCK, null, Map.of());
    }

    private static Path device(String id) {
        return Path.of("/dev/mapper/strata-" + id);
    }

    /**
     * Writes {@code bytes} from the start of a device, each MiB stamped with its offset (random data
     * when {@code random}: the emulated CPU is slow at it), syncing every 16 MiB, at most
     * {@code bytesPerSecond} (0: as fast as it goes); returns the {@link ContentDigest} of what it wrote.
     */
    private static byte[] write(Path device, long bytes, long bytesPerSecond, boolean random) throws Exception {
        ContentDigest digest = new ContentDigest();
        byte[] chunk = new byte[(int) MIB];
        Random rng = new Random(bytes);
        long start = System.nanoTime();
        try (FileChannel out = FileChannel.open(device, StandardOpenOption.WRITE)) {
            for (long done = 0; done < bytes; done += MIB) {
                if (random) {
                    rng.nextBytes(chunk);
                } else {
                    ByteBuffer.wrap(chunk).putLong(done).putLong(~done);
                }
                digest.update(chunk);
                ByteBuffer b = ByteBuffer.wrap(chunk);
                while (b.hasRemaining()) {
                    out.write(b);
                }
                if ((done + MIB) % (16 * MIB) == 0) {
                    out.force(true); // a full pool fails the writes here (error_if_no_space)
                }
                if (bytesPerSecond > 0) {
                    long due = start + (done + MIB) * 1_000_000_000L / bytesPerSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
            }
            out.force(true);
        }
        return digest.digest();
    }

    private static double sample(List<Sample> samples, String name) {
        return samples.stream().filter(s -> s.name().equals(name)).mapToDouble(Sample::value).findFirst().orElseThrow();
    }

    @Test
    void aPoolOnFilesGrowsUnderAWriterWhoNeverSeesAnError() throws Exception {
        engine = open(128 * MIB, 512 * MIB, 250);
        VolumeRecord other = block("other", 32 * MIB);
        engine.create(other);
        byte[] otherData = write(device("other"), 16 * MIB, 0, true);
        VolumeRecord big = block("big", 768 * MIB);
        engine.create(big);
        long firstBlocks = new ThinPool(engine.poolConfig(), new Dmsetup(runner), runner).status().totalDataBlocks();

        // 288 MiB at 8 MiB/s into a pool of 128 MiB: it must grow twice at least under the writer.
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                write(device("big"), 288 * MIB, 8 * MIB, false);
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        writer.start();
        writer.join();
        assertNull(failed.get(), () -> "the writer saw an error: " + failed.get());

        DmPoolStatus status = new ThinPool(engine.poolConfig(), new Dmsetup(runner), runner).status();
        assertEquals("rw", status.mode());
        long chunk = engine.poolConfig().chunkBytes();
        assertTrue(status.totalDataBlocks() > firstBlocks, "the pool grew: " + status);
        assertTrue(status.totalDataBlocks() * chunk <= 512 * MIB, "never past its maximum: " + status);
        assertEquals(304 * MIB, status.usedDataBlocks() * chunk, "it holds what was written: " + status);
        assertTrue(Files.size(root.resolve("pool/data")) <= 512 * MIB);
        List<Sample> samples = engine.samples();
        assertTrue(sample(samples, "strata_pool_growths_total") >= 2, samples.toString());
        assertEquals(0, sample(samples, "strata_pool_growth_failures_total"));
        assertEquals(512 * MIB, sample(samples, "strata_pool_data_limit_bytes"));
        assertArrayEquals(otherData, ContentDigest.of(device("other"), 16 * MIB), "the other volume is untouched");
    }

    @Test
    void aPoolThatCannotGrowRefusesNewVolumesBeforeItIsFull() throws Exception {
        engine = open(96 * MIB, 96 * MIB, 100); // never grows
        engine.create(block("filler", 256 * MIB));
        assertTrue(engine.capacity().availableBytes() > 0);
        write(device("filler"), 93 * MIB, 0, false); // 3 MiB free: under the 4 MiB low-water mark, not full
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (sample(engine.samples(), "strata_pool_low_water_events_total") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50); // until the monitor's next poll sees the pool under its mark
        }
        assertEquals(0, engine.capacity().availableBytes(), "nothing to give under the low-water mark");
        assertCsi(Code.RESOURCE_EXHAUSTED, () -> engine.create(block("refused", 16 * MIB)));
        List<Sample> samples = engine.samples();
        assertEquals(1, sample(samples, "strata_pool_low_water_events_total"));
        assertEquals(0, sample(samples, "strata_pool_growths_total"));
        assertEquals(96 * MIB, sample(samples, "strata_pool_data_limit_bytes"));
    }
}
