package dev.strata.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Where backups live: opaque objects by key, e.g. {@code "config"}, {@code "chunks/ab/ab12…"},
 * {@code "backups/NAME"}, {@code "locks/…"}. Keys use only {@code [A-Za-z0-9._/-]}, with no empty,
 * {@code "."} or {@code ".."} segment and no leading '/'; any other key is refused with
 * {@link BackupException.Kind#INVALID}.
 */
public interface BackupTarget {
    /**
     * Opens a target by URL; nothing is written. {@code file:///absolute/dir} is a {@link FileTarget}
     * (a missing directory is made by the first put); {@code s3://BUCKET[/PREFIX][?endpoint=…][&region=…]}
     * is an {@link S3Target} (nothing is sent until the first call); anything else, a relative path, a
     * path with {@code ".."} or a malformed s3 URL is {@link BackupException.Kind#INVALID}.
     */
    static BackupTarget open(String url) throws IOException {
        return open(url, BackupSecrets.NONE);
    }

    /** Opens a target by URL, an S3 one with the secrets' credentials (a file target needs none). */
    static BackupTarget open(String url, BackupSecrets secrets) throws IOException {
        return S3Location.isS3(url) ? S3Target.open(url, secrets) : FileTarget.open(url);
    }

    String url();

    /** Stores {@code data} under {@code key} atomically and durably: readers see all of it or none. */
    void put(String key, byte[] data) throws IOException;

    /**
     * Stores the remaining bytes of {@code data} (its position is left as it was) under {@code key}
     * atomically, durable only once {@link #flush} returns: a backup writes its chunks and packs so,
     * then flushes once, then puts its manifest. On a filesystem that saves two fsyncs per object.
     * Targets whose every put is durable (S3) need not override it, but may, to send a pack from
     * the uploader's buffer without copying it.
     */
    default void putBuffered(String key, ByteBuffer data) throws IOException {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        put(key, bytes);
    }

    /** Makes every {@link #putBuffered} so far durable. */
    default void flush() throws IOException {}

    /**
     * Whether an object a crash left without its flush is whole. True where every put is durable
     * when it returns; false where {@link #putBuffered} defers durability, so that a power cut can
     * leave a torn object under a valid key.
     */
    default boolean orphansAreWhole() {
        return true;
    }

    /**
     * Whether each object costs enough that a backup packs chunks of every size, not only small
     * ones. On S3 every object is a request, signed and sent: a GiB stored as chunks of its own
     * was about 870 puts and as many GETs, packed about 140 and 270. A file target keeps a big
     * chunk as a file of its own, cheap to write and to read.
     */
    default boolean packsEveryChunk() {
        return false;
    }

    /**
     * Removes what writes that a crash cut off before {@code before} left behind (a file target's
     * temporary files), never a write still running; a prune calls it. Targets whose writes leave
     * nothing (S3: an object appears whole or not at all) need not override it.
     */
    default void sweepInterrupted(Instant before) throws IOException {}

    /** The object's bytes; a missing key is a {@link java.nio.file.NoSuchFileException}. */
    byte[] get(String key) throws IOException;

    /**
     * {@code length} bytes of the object from {@code offset}, in {@code reuse} when it is big enough:
     * one chunk of a pack. An object that ends before them is an {@link java.io.EOFException}; a
     * missing key is a {@link java.nio.file.NoSuchFileException}.
     */
    default ByteBuffer getRange(String key, long offset, int length, byte[] reuse) throws IOException {
        byte[] whole = get(key);
        if (offset < 0 || length < 0 || offset + length > whole.length) {
            throw new java.io.EOFException(key + " holds " + whole.length + " bytes, not " + offset + "+" + length);
        }
        byte[] into = length <= reuse.length ? reuse : new byte[length];
        System.arraycopy(whole, (int) offset, into, 0, length);
        return ByteBuffer.wrap(into, 0, length);
    }

    /**
     * The object's bytes, in {@code reuse} when it is big enough, else in a new array: a restore
     * reads thousands of chunks through a few buffers this way instead of allocating each, which
     * kept the driver's small heap collecting through most of a restore.
     */
    default ByteBuffer get(String key, byte[] reuse) throws IOException {
        return ByteBuffer.wrap(get(key));
    }

    boolean exists(String key) throws IOException;

    /** Every key starting with {@code prefix}, sorted; temporary files are never listed. */
    List<String> list(String prefix) throws IOException;

    /**
     * As {@link #list}, with each object's stored size. Targets whose listing tells the sizes (S3's
     * does, a directory walk's stat does) should say so: a repack weighs every pack by its size.
     */
    default SortedMap<String, Long> listWithSizes(String prefix) throws IOException {
        SortedMap<String, Long> sizes = new TreeMap<>();
        for (String key : list(prefix)) {
            try {
                sizes.put(key, size(key));
            } catch (java.nio.file.NoSuchFileException e) {
                // deleted since listed
            }
        }
        return sizes;
    }

    Instant modified(String key) throws IOException;

    /** Deletes the object; a missing key is a no-op. */
    void delete(String key) throws IOException;

    /** The stored size of the object; targets that can tell without reading it should say so. */
    default long size(String key) throws IOException {
        return get(key).length;
    }

    /**
     * Stores {@code data} only if {@code key} is absent, returning whether it did. The default is not
     * atomic; targets that can create exclusively override it (it guards repository initialisation).
     */
    default boolean putIfAbsent(String key, byte[] data) throws IOException {
        if (exists(key)) {
            return false;
        }
        put(key, data);
        return true;
    }
}
