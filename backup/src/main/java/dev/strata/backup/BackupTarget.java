package dev.strata.backup;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * Where backups live: opaque objects by key, e.g. {@code "config"}, {@code "chunks/ab/ab12…"},
 * {@code "backups/NAME"}, {@code "locks/…"}. Keys use only {@code [A-Za-z0-9._/-]}, with no empty,
 * {@code "."} or {@code ".."} segment and no leading '/'; any other key is refused with
 * {@link BackupException.Kind#INVALID}.
 */
public interface BackupTarget {
    /**
     * Opens a target by URL. {@code file:///absolute/dir} is a {@link FileTarget} (the directory is
     * created if missing); {@code s3://…} is not supported yet; anything else, a relative path or a
     * path with {@code ".."} is {@link BackupException.Kind#INVALID}.
     */
    static BackupTarget open(String url) throws IOException {
        return FileTarget.open(url);
    }

    String url();

    /** Stores {@code data} under {@code key} atomically and durably: readers see all of it or none. */
    void put(String key, byte[] data) throws IOException;

    /** The object's bytes; a missing key is a {@link java.nio.file.NoSuchFileException}. */
    byte[] get(String key) throws IOException;

    boolean exists(String key) throws IOException;

    /** Every key starting with {@code prefix}, sorted; temporary files are never listed. */
    List<String> list(String prefix) throws IOException;

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
