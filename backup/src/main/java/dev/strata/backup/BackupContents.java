package dev.strata.backup;

import java.util.List;

/** What a backup read, as its manifest's entries, and what reading it cost. */
record BackupContents(List<Manifest.Entry> entries, long files, long directories, long symlinks, long skipped,
        long logicalBytes, long chunks, long readBytes) {
    BackupContents {
        entries = List.copyOf(entries);
    }
}
