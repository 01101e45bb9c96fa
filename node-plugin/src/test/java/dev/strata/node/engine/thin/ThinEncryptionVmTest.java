package dev.strata.node.engine.thin;

import static dev.strata.common.CsiAssertions.assertCsi;
import static dev.strata.node.engine.thin.ThinPoolScratch.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.strata.common.exec.CommandRunner;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeKey;
import dev.strata.node.mount.BindOptions;
import dev.strata.node.mount.MountTable;
import dev.strata.node.sys.LibC;
import io.grpc.Status.Code;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Encrypted thin volumes (LUKS2 over the thin device) on a real dm-thin pool, in the VM. */
@Tag("vm")
@Timeout(900)
class ThinEncryptionVmTest {
    private static final Map<String, String> ENCRYPTED = Map.of(ThinEngine.ENCRYPTED_PARAMETER, "true");
    private static final String KEY_TEXT = "k3y-that-must-never-be-logged-5d1c";
    private static final VolumeKey KEY = key(KEY_TEXT);
    private static final String WRONG_TEXT = "wrong-key-also-never-logged-77e0";
    private static final byte[] MARKER = "PLAINTEXT-MARKER-of-an-encrypted-volume|".repeat(100)
            .getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path tmp;

    private ThinPoolScratch scratch;
    private ThinEngine engine;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger rootLogger = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger runnerLogger = (Logger) LoggerFactory.getLogger(CommandRunner.class);

    @BeforeEach
    void needsDeviceMapper() throws IOException {
        scratch = new ThinPoolScratch(tmp);
        engine = scratch.open(1024 * MIB, 1);
        log.start();
        rootLogger.addAppender(log);
        runnerLogger.setLevel(Level.DEBUG); // every command line, not only the failed ones
    }

    @AfterEach
    void removeEverything() throws IOException {
        rootLogger.detachAppender(log);
        runnerLogger.setLevel(null);
        if (scratch != null) {
            scratch.removeEverything();
        }
    }

    private static VolumeKey key(String text) {
        return VolumeKey.fromSecrets("secrets", Map.of(VolumeKey.SECRET_KEY, text));
    }

    private Path staging(VolumeRecord v) throws IOException {
        return Files.createDirectories(tmp.resolve("staging").resolve(v.id()));
    }

    private Path stage(VolumeRecord v, VolumeKey key) throws IOException {
        Path at = staging(v);
        engine.stage(v, at, BindOptions.NONE, key);
        return at;
    }

    private boolean isLuks(String id) {
        return scratch.runner.run("cryptsetup", "isLuks", "--", ThinEngine.devicePath(id)).ok();
    }

    private static boolean contains(Path device, byte[] needle, long length) throws IOException {
        byte[] window = new byte[(int) (4 * MIB) + needle.length];
        try (RandomAccessFile in = new RandomAccessFile(device.toFile(), "r")) {
            for (long at = 0; at < length; at += 4 * MIB) {
                in.seek(at);
                int n = in.read(window, 0, (int) Math.min(window.length, length - at));
                if (n > 0 && indexOf(window, n, needle) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int indexOf(byte[] hay, int length, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static byte[] header(String id) throws Exception {
        byte[] bytes = new byte[(int) Luks.HEADER_BYTES];
        try (RandomAccessFile in = new RandomAccessFile(ThinEngine.devicePath(id), "r")) {
            in.readFully(bytes);
        }
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }

    @Test
    void aVolumeIsFormattedAtItsFirstStageHoldsOnlyCiphertextAndRefusesAWrongOrMissingKey() throws Exception {
        VolumeRecord v = ThinPoolScratch.volume("vol-enc", 64 * MIB, AccessType.MOUNT, null, ENCRYPTED);
        engine.create(v);
        assertEquals("luks2", engine.attributes(v).get("encryption"));
        assertFalse(isLuks(v.id()), "no header before the key came");
        assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> stage(v, VolumeKey.NONE));

        Path live = stage(v, KEY);
        assertTrue(isLuks(v.id()), "the first stage wrote a LUKS2 header");
        assertEquals(Long.toString(64 * MIB), scratch.runner.run("blockdev", "--getsize64",
                ThinEncryption.mappingPath(v.id())).stdout().strip(), "the header takes none of the volume's size");
        Files.write(live.resolve("secret.txt"), MARKER);
        // As a crash between unstage's unmount and its close leaves it: the mapping open, nothing on it.
        scratch.mounter.unmount(live);
        engine.stage(v, live, BindOptions.NONE, KEY); // the key is checked, the open mapping kept
        assertArrayEquals(MARKER, Files.readAllBytes(live.resolve("secret.txt")));
        engine.unstage(v, live);
        assertFalse(scratch.runner.run("dmsetup", "info", ThinEncryption.mapping(v.id())).ok(), "unstage closed it");
        assertFalse(contains(Path.of(ThinEngine.devicePath(v.id())), MARKER, 64 * MIB + Luks.HEADER_BYTES),
                "the file's content is on the thin device in the clear");

        byte[] header = header(v.id());
        assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> stage(v, key(WRONG_TEXT)));
        assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> stage(v, VolumeKey.NONE));
        assertArrayEquals(header, header(v.id()), "a refused key changed the header");
        assertFalse(scratch.runner.run("dmsetup", "info", ThinEncryption.mapping(v.id())).ok());
        assertTrue(MountTable.read().under(tmp.toRealPath()).isEmpty(), "a refused stage mounted something");

        assertThrows(IOException.class, () -> engine.stage(v, tmp.resolve("no-such-directory"), BindOptions.NONE, KEY));
        assertFalse(scratch.runner.run("dmsetup", "info", ThinEncryption.mapping(v.id())).ok(),
                "a stage whose mount failed left its mapping open");

        Path again = stage(v, KEY);
        assertArrayEquals(MARKER, Files.readAllBytes(again.resolve("secret.txt")));
        // Staged again and open: a wrong key is still refused, not waved through by the open mapping.
        assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> engine.stage(v, again, BindOptions.NONE,
                key(WRONG_TEXT)));
        engine.unstage(v, again);
        engine.delete(v.id());
        assertKeysNeverLogged();
    }

    @Test
    void snapshotsAndRestoresStayEncryptedAndExpansionGrowsTheMapping() throws Exception {
        VolumeRecord v = ThinPoolScratch.volume("vol-src", 64 * MIB, AccessType.MOUNT, null, ENCRYPTED);
        engine.create(v);
        Path live = stage(v, KEY);
        Files.write(live.resolve("secret.txt"), MARKER);
        engine.snapshot(ThinPoolScratch.snapshot("snap-enc", v.id()), v);

        long before = LibC.statvfs(live).totalBytes();
        engine.expand(v.withCapacity(160 * MIB), 160 * MIB); // online: the mapping, then ext4
        assertTrue(LibC.statvfs(live).totalBytes() > before + 80 * MIB, "grown online");
        assertArrayEquals(MARKER, Files.readAllBytes(live.resolve("secret.txt")));

        assertCsi(Code.INVALID_ARGUMENT, "parameters.encrypted", () -> engine.create(ThinPoolScratch.volume("vol-plain",
                64 * MIB, AccessType.MOUNT, ContentSource.snapshot("snap-enc"), Map.of())));
        VolumeRecord restored = ThinPoolScratch.volume("vol-restored", 128 * MIB, AccessType.MOUNT,
                ContentSource.snapshot("snap-enc"), ENCRYPTED);
        engine.create(restored);
        assertTrue(isLuks(restored.id()), "the restore carries the header");
        assertFalse(contains(Path.of(ThinEngine.devicePath(restored.id())), MARKER, 64 * MIB + Luks.HEADER_BYTES));
        assertCsi(Code.INVALID_ARGUMENT, "secrets.encryptionKey", () -> stage(restored, key(WRONG_TEXT)));
        Path view = stage(restored, KEY);
        assertArrayEquals(MARKER, Files.readAllBytes(view.resolve("secret.txt")));
        assertTrue(LibC.statvfs(view).totalBytes() > 100 * MIB, "a bigger restore grew its filesystem at its stage");
        engine.unstage(restored, view);

        // Grown while closed: the filesystem catches up at the next stage.
        engine.expand(restored.withCapacity(192 * MIB), 192 * MIB);
        Path reopened = stage(restored, KEY);
        assertTrue(LibC.statvfs(reopened).totalBytes() > 160 * MIB, "grown at the stage after");
        engine.unstage(restored, reopened);
        engine.unstage(v, live);
        engine.delete(restored.id());
        engine.delete(v.id());
        engine.deleteSnapshot("snap-enc");
        assertKeysNeverLogged();
    }

    @Test
    void aBlockVolumeIsPublishedAsItsMappingAndDeleteDestroysTheHeader() throws Exception {
        VolumeRecord v = ThinPoolScratch.volume("vol-blk", 32 * MIB, AccessType.BLOCK, null, ENCRYPTED);
        engine.create(v);
        Path at = stage(v, KEY);
        Path device = engine.publishSource(v, at);
        assertEquals(Path.of(ThinEncryption.mappingPath(v.id())), device);
        try (RandomAccessFile out = new RandomAccessFile(device.toFile(), "rw")) {
            assertEquals(32 * MIB, out.length(), "the mapping is the volume's size");
            out.write(MARKER);
            out.getFD().sync();
        }
        assertFalse(contains(Path.of(ThinEngine.devicePath(v.id())), MARKER, 32 * MIB + Luks.HEADER_BYTES));
        engine.unstage(v, at);

        // A second view of the same thin device outlives the volume's own, to read what delete left.
        String thinId = engine.attributes(v).get("thinId");
        String probe = "probe-" + v.id();
        String table = scratch.runner.run("dmsetup", "table", ThinEngine.dmName(v.id())).stdout().strip();
        assertTrue(table.endsWith(" " + thinId), table);
        scratch.runner.run("dmsetup", "--verifyudev", "create", probe, "--table", table).check();
        engine.delete(v.id());
        assertFalse(scratch.runner.run("cryptsetup", "isLuks", "--", "/dev/mapper/" + probe).ok(),
                "the header is still there after delete");
        assertFalse(scratch.runner.run(List.of("cryptsetup", "open", "--test-passphrase", "--key-file", "-", "--",
                "/dev/mapper/" + probe), KEY.bytes()).ok(), "the key still opens the deleted volume");
        scratch.runner.run("dmsetup", "--verifyudev", "remove", probe).check();
        assertKeysNeverLogged();
    }

    @Test
    void aStartClosesTheMappingsOfVolumesThatAreGone() throws Exception {
        VolumeRecord kept = ThinPoolScratch.volume("vol-kept", 32 * MIB, AccessType.BLOCK, null, ENCRYPTED);
        VolumeRecord gone = ThinPoolScratch.volume("vol-gone", 32 * MIB, AccessType.BLOCK, null, ENCRYPTED);
        engine.create(kept);
        engine.create(gone);
        stage(kept, KEY);
        stage(gone, KEY);
        Files.delete(scratch.root.resolve("volumes").resolve(gone.id())); // as a delete cut short would leave it
        engine.close();
        engine = scratch.open(1024 * MIB, 1);
        assertTrue(scratch.runner.run("dmsetup", "info", ThinEncryption.mapping(kept.id())).ok(), "kept open");
        assertFalse(scratch.runner.run("dmsetup", "info", ThinEncryption.mapping(gone.id())).ok(), "left open");
        assertFalse(scratch.runner.run("dmsetup", "info", ThinEngine.dmName(gone.id())).ok(), "its thin device left");
        assertKeysNeverLogged();
    }

    /** Neither key, in any message or stack trace logged; and the log did hold the commands run. */
    private void assertKeysNeverLogged() {
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent e : log.list) {
            lines.add(e.getFormattedMessage());
            if (e.getThrowableProxy() != null) {
                lines.add(ThrowableProxyUtil.asString(e.getThrowableProxy()));
            }
        }
        String all = String.join("\n", lines);
        assertTrue(all.contains("cryptsetup"), "the log holds no cryptsetup command: the capture sees nothing");
        assertFalse(all.contains(KEY_TEXT), "the key is in the log");
        assertFalse(all.contains(WRONG_TEXT), "the wrong key is in the log");
    }
}
