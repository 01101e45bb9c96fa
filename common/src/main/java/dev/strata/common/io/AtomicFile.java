package dev.strata.common.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * The one way Strata writes a file it must read back as it was, after a crash or a power cut: the
 * bytes go to a temporary file beside it, which is synced, renamed over the old one, and the rename
 * synced through the directory. A reader then sees either the old file or the new one whole, and a
 * write that returned survives the machine losing power. Anything that names the file (a record
 * that says READY) must be written after, never before.
 */
public final class AtomicFile {
    /** Whether a write must survive a power cut, or only a crash of the process. */
    public enum Durability {
        /** Synced: survives a power cut. */
        SYNCED,
        /**
         * Survives a crash of the process only: for files that merely guide clean-up, which a later
         * synced write supersedes (a record's CREATING state before its READY one).
         */
        CRASH_ONLY
    }

    private AtomicFile() {}

    /** Replaces {@code file} with {@code bytes}, synced. */
    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, bytes, Durability.SYNCED);
    }

    public static void write(Path file, byte[] bytes, Durability durability) throws IOException {
        write(file, bytes, durability, file.resolveSibling("." + file.getFileName() + ".tmp"));
    }

    /**
     * Like {@link #write(Path, byte[], Durability)}, for a file that other processes or hosts may write
     * at the same moment (a backup target on NFS): each write stages under a name of its own, so that
     * one writer never renames another's half-written bytes into place. A crash leaves that name
     * behind, and no later write reuses it: the directory's owner sweeps such files once they are
     * older than any write could take.
     */
    public static void writeShared(Path file, byte[] bytes, Durability durability) throws IOException {
        writeShared(file, ByteBuffer.wrap(bytes), durability);
    }

    /** {@link #writeShared(Path, byte[], Durability)} of the buffer's remaining bytes (its position is left as it was). */
    public static void writeShared(Path file, ByteBuffer bytes, Durability durability) throws IOException {
        write(file, bytes.duplicate(), durability, file.resolveSibling("." + file.getFileName() + "."
                + UUID.randomUUID() + ".tmp"));
    }

    private static void write(Path file, byte[] bytes, Durability durability, Path tmp) throws IOException {
        write(file, ByteBuffer.wrap(bytes), durability, tmp);
    }

    private static void write(Path file, ByteBuffer buffer, Durability durability, Path tmp) throws IOException {
        boolean sync = durability == Durability.SYNCED;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                if (sync) {
                    ch.force(false);
                }
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // A write that failed (a full disk, an interrupted thread: ClosedByInterruptException)
            // leaves nothing; only a crash may leave a temporary file, which readers skip.
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        if (sync) {
            syncDirectory(file.getParent());
        }
    }

    /** Whether {@code name} is a temporary file of {@link #write} or {@link #writeShared}, which a crash may leave behind. */
    public static boolean isTemporary(String name) {
        return name.startsWith(".") && name.endsWith(".tmp");
    }

    /** Renames {@code from} to {@code to} (same filesystem, atomically) and syncs the rename. */
    public static void rename(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(to.getParent());
        if (!from.getParent().equals(to.getParent())) {
            syncDirectory(from.getParent());
        }
    }

    /** Makes the entries of {@code dir} (a create, a rename, a delete in it) durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
