package dev.strata.backup;

import java.util.List;

/**
 * What a backup read, as its manifest's entries, and what reading it cost; {@code layers}: the
 * manifests of the layers it names that the target does not have yet, to be stored before its own.
 */
record BackupContents(List<Manifest.Entry> entries, long files, long directories, long symlinks, long skipped,
        long logicalBytes, long chunks, long readBytes, List<Manifest> layers) {
    BackupContents {
        entries = List.copyOf(entries);
        layers = List.copyOf(layers);
    }

    /** A backup that names no layers. */
    BackupContents(List<Manifest.Entry> entries, long files, long directories, long symlinks, long skipped,
            long logicalBytes, long chunks, long readBytes) {
        this(entries, files, directories, symlinks, skipped, logicalBytes, chunks, readBytes, List.of());
    }
}
