package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader of the pool's metadata stopped by an interrupt (an upload a DeleteSnapshot stops) still
 * releases the metadata snapshot: left reserved, every later reserve fails with EBUSY. The runner
 * here answers as the real one does on an interrupted thread: it kills the command (exit 130).
 */
class MetadataSnapshotReleaseTest {
    /** dmsetup messages that ran, and what an interrupted thread asked for in vain. */
    private final List<String> sent = new ArrayList<>();
    private final List<String> killed = new ArrayList<>();

    private final CommandRunner runner = new CommandRunner() {
        @Override
        public Result run(List<String> command, byte[] input) {
            String line = String.join(" ", command);
            if (Thread.currentThread().isInterrupted()) {
                killed.add(line);
                return new Result(command, 130, "", "");
            }
            if (command.get(0).equals("losetup")) {
                return new Result(command, 0, line.contains("--show") ? "/dev/loop9\n" : "", "");
            }
            sent.add(line.substring(line.lastIndexOf(' ') + 1));
            return new Result(command, 0, "", "");
        }
    };

    @Test
    void anInterruptedReaderStillReleasesTheMetadataSnapshot(@TempDir Path dir) {
        ThinPool pool = new ThinPool(ThinPoolConfig.files(dir.resolve("pool"), 64L << 20, 1), new Dmsetup(runner),
                runner);
        try {
            assertThrows(InterruptedIOException.class, () -> pool.withMetadataSnapshot(meta -> {
                Thread.currentThread().interrupt(); // the upload's thread, stopped mid-read
                throw new InterruptedIOException("thin_delta stopped");
            }));
            assertEquals(List.of("reserve_metadata_snap", "release_metadata_snap"), sent, "killed: " + killed);
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aReaderThatEndsReleasesTheMetadataSnapshot(@TempDir Path dir) throws IOException {
        ThinPool pool = new ThinPool(ThinPoolConfig.files(dir.resolve("pool"), 64L << 20, 1), new Dmsetup(runner),
                runner);
        assertEquals("/dev/loop9", pool.withMetadataSnapshot(meta -> meta));
        assertEquals(List.of("reserve_metadata_snap", "release_metadata_snap"), sent);
    }
}
