package dev.strata.cli;

import dev.strata.common.io.AtomicFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What kubelet keeps in memory, kept on disk because each stratactl run is a new process: the targets a
 * volume is published at ({@code publications/<volume-id>}, one per line) and its staging directory
 * ({@code staging/<volume-id>}). Used for drivers that keep no records stratactl can read; a client
 * that crashes between a call and its record leaves them behind. Opening it takes an exclusive lock on
 * the state directory, held until close, so concurrent mount/umount runs cannot both decide they are
 * the last user of a volume.
 */
final class PublicationRecord implements Placements {
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

    private final Path stateDir;
    private final FileChannel lockFile;
    private final FileLock lock;

    private PublicationRecord(Path stateDir, FileChannel lockFile, FileLock lock) {
        this.stateDir = stateDir;
        this.lockFile = lockFile;
        this.lock = lock;
    }

    static PublicationRecord open(Path stateDir) throws IOException {
        Files.createDirectories(stateDir.resolve("publications"));
        Files.createDirectories(stateDir.resolve("staging"));
        FileChannel channel = FileChannel.open(stateDir.resolve("lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        try {
            return new PublicationRecord(stateDir, channel, channel.lock());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public Path newStagingDir(String volumeId) {
        return stateDir.resolve("staging").resolve(fileName(volumeId));
    }

    /** The staging directory stratactl made for the volume, while it exists. */
    @Override
    public Optional<Path> stagingPath(String volumeId) {
        return Optional.of(newStagingDir(volumeId)).filter(Files::isDirectory);
    }

    private Path recordFile(String volumeId) {
        return stateDir.resolve("publications").resolve(fileName(volumeId));
    }

    /** CSI IDs are opaque strings; one that is not a plain file name is stored under its hash. */
    static String fileName(String volumeId) {
        if (SAFE_ID.matcher(volumeId).matches()) {
            return volumeId;
        }
        return "sha1-" + HexFormat.of().formatHex(sha1(volumeId));
    }

    private static byte[] sha1(String text) {
        try {
            return java.security.MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is always present", e);
        }
    }

    @Override
    public List<String> targets(String volumeId) throws IOException {
        Path file = recordFile(volumeId);
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public void published(String volumeId, String target) throws IOException {
        List<String> targets = new ArrayList<>(targets(volumeId));
        if (!targets.contains(target)) {
            targets.add(target);
            write(volumeId, targets);
        }
    }

    /** Removes one target (the record file goes when none remains). */
    @Override
    public void unpublished(String volumeId, String target) throws IOException {
        List<String> targets = new ArrayList<>(targets(volumeId));
        targets.remove(target);
        write(volumeId, targets);
    }

    private void write(String volumeId, List<String> targets) throws IOException {
        Path file = recordFile(volumeId);
        if (targets.isEmpty()) {
            Files.deleteIfExists(file);
            return;
        }
        AtomicFile.write(file, (String.join("\n", targets) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            lockFile.close();
        }
    }
}
