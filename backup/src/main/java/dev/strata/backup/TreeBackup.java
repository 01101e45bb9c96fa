package dev.strata.backup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a tree into manifest entries, storing each file's chunks as it goes; small files are read
 * ahead on other threads ({@link ReadAhead}), and their entries keep their places. A file whose
 * size and mtime (to the nanosecond) equal the parent backup's entry for the same path is not read:
 * its chunk list is reused (restic's trick), provided those chunks are still on the target. The inode is left
 * out (restic's --ignore-inode): each snapshot of a directory volume is a copy, with new inodes and
 * the same mtimes, and a backup is of a snapshot.
 */
final class TreeBackup {
    private final Chunker.Reader reader;
    private final ChunkUploader uploader;
    private final Map<String, Manifest.Entry> parentEntries;
    private final Locks.Lock lock;
    private final List<Manifest.Entry> entries = new ArrayList<>();
    private final ReadAhead<Placed> readAhead = new ReadAhead<>(this::addRead); // no thread until a file is added
    private long files;
    private long directories;
    private long symlinks;
    private long logicalBytes;
    private long chunks;
    private long readBytes;

    /** {@code parentEntries}: the parent backup's entries by path, empty without a parent. */
    TreeBackup(Chunker chunker, ChunkUploader uploader, Map<String, Manifest.Entry> parentEntries, Locks.Lock lock) {
        this.reader = chunker.reader();
        this.uploader = uploader;
        this.parentEntries = parentEntries;
        this.lock = lock;
    }

    /** {@code marks}: the tree is an overlay layer, whose whiteouts and opaque directories count; else null. */
    BackupContents run(Path tree, LayerMarks marks) throws IOException {
        long skipped;
        try (readAhead) {
            skipped = TreeWalker.walk(tree, marks, this::add);
            readAhead.finish();
        }
        return new BackupContents(entries, files, directories, symlinks, skipped, logicalBytes, chunks, readBytes);
    }

    /** A small file being read ahead, and where its entry goes. */
    private record Placed(int index, TreeWalker.Found found) {}

    private void add(TreeWalker.Found found) throws IOException {
        switch (found.type()) {
            case Manifest.Entry.DIR -> {
                directories++;
                entries.add(found.toEntry(0, List.of()));
            }
            case Manifest.Entry.SYMLINK -> {
                symlinks++;
                entries.add(found.toEntry(0, List.of()));
            }
            case Manifest.Entry.WHITEOUT -> entries.add(found.toEntry(0, List.of()));
            default -> addFile(found);
        }
        lock.refreshIfDue();
    }

    private void addFile(TreeWalker.Found found) throws IOException {
        Manifest.Entry reused = reusable(found);
        if (reused != null) {
            entries.add(counted(found.toEntry(reused.size(), reused.chunks())));
        } else if (found.size() <= ReadAhead.MAX_FILE) {
            entries.add(null); // its place, filled in when its content comes back
            readAhead.add(new Placed(entries.size() - 1, found), found.file(), found.size());
        } else {
            entries.add(counted(read(found)));
        }
    }

    /** A small file's content (null: it grew past what is read ahead, and is read as a big one). */
    private void addRead(Placed placed, ByteBuffer content) throws IOException {
        Manifest.Entry entry;
        if (content == null) {
            entry = read(placed.found());
        } else if (content.remaining() == 0) {
            entry = placed.found().toEntry(0, List.of());
        } else if (reader.isOneChunk(content.remaining())) {
            // the usual small file: one chunk, whose array is the uploader's to keep (no copy)
            readBytes += content.remaining();
            entry = placed.found().toEntry(content.remaining(), List.of(uploader.uploadOwned(content)));
            lock.refreshIfDue();
        } else {
            entry = split(placed.found(), new ByteArrayInputStream(content.array(), 0, content.remaining()));
        }
        entries.set(placed.index(), counted(entry));
    }

    private Manifest.Entry counted(Manifest.Entry entry) {
        files++;
        logicalBytes += entry.size();
        chunks += entry.chunks().size();
        return entry;
    }

    private Manifest.Entry reusable(TreeWalker.Found found) {
        Manifest.Entry previous = parentEntries.get(found.path());
        boolean same = previous != null && Manifest.Entry.FILE.equals(previous.type()) && previous.chunks() != null
                && previous.size() == found.size() && previous.mtimeNanos() == found.mtimeNanos();
        return same && uploader.haveAll(previous.chunks()) ? previous : null;
    }

    private Manifest.Entry read(TreeWalker.Found found) throws IOException {
        // NOFOLLOW: a file swapped for a symlink since the walk saw it must not lead outside the tree
        try (InputStream in = Files.newInputStream(found.file(), LinkOption.NOFOLLOW_LINKS)) {
            return split(found, in);
        }
    }

    private Manifest.Entry split(TreeWalker.Found found, InputStream in) throws IOException {
        List<Manifest.ChunkRef> refs = new ArrayList<>();
        long size = reader.split(in, (buffer, offset, length) -> {
            refs.add(uploader.upload(buffer, offset, length));
            lock.refreshIfDue();
        });
        readBytes += size;
        return found.toEntry(size, List.copyOf(refs));
    }
}
