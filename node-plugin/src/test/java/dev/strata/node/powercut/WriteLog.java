package dev.strata.node.powercut;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The log a dm-log-writes device keeps of every write that reached the disk below it, in the order
 * they completed, with the flushes and FUA writes and the marks userspace added (the kernel's
 * Documentation/admin-guide/device-mapper/log-writes.rst). Replaying a prefix of it onto a copy of
 * the disk as it was at the start gives the disk as a power cut at that point would have left it:
 * everything flushed is there, nothing the cache still held.
 *
 * <p>Layout: sector 0 holds the superblock (magic, version, entry count, sector size: the data
 * device's logical block size, the unit of every sector number here); each entry is a sector with
 * its header ({@code sector, nr_sectors, flags, data_len}, little-endian, and a mark's name after
 * it), followed by {@code nr_sectors} sectors of data for a write. Writes reach the log when a
 * flush (or a FUA write) completes, and a mark when it is made, so a prefix that ends at a mark is
 * exactly what a power cut at that moment would have left.
 */
final class WriteLog {
    static final long FLUSH = 1;
    static final long FUA = 1 << 1;
    static final long DISCARD = 1 << 2;
    static final long MARK = 1 << 3;
    private static final long MAGIC = 0x6a736677736872L;

    /** One entry: where its header sits in the log, what it wrote where, or the mark it is. */
    record Entry(int index, long logOffset, long sector, long sectors, long flags, String mark) {
        boolean isWrite() {
            return (flags & (MARK | DISCARD)) == 0 && sectors > 0;
        }

        /** A point where a power cut is interesting: after a flush or a FUA write completed, or at a mark. */
        boolean isCutPoint() {
            return (flags & (FLUSH | FUA | MARK)) != 0;
        }
    }

    private final FileChannel log;
    private final int sectorSize;
    private final List<Entry> entries;

    private WriteLog(FileChannel log, int sectorSize, List<Entry> entries) {
        this.log = log;
        this.sectorSize = sectorSize;
        this.entries = entries;
    }

    static WriteLog open(Path device) throws IOException {
        FileChannel log = FileChannel.open(device, StandardOpenOption.READ);
        ByteBuffer sb = read(log, 0, 28);
        if (sb.getLong() != MAGIC) {
            throw new IOException(device + " holds no dm-log-writes log");
        }
        long version = sb.getLong();
        long count = sb.getLong();
        int sectorSize = sb.getInt();
        if (version != 1) {
            throw new IOException("dm-log-writes log version " + version + " is not 1");
        }
        List<Entry> entries = new ArrayList<>();
        long offset = sectorSize;
        for (int i = 0; i < count; i++) {
            ByteBuffer h = read(log, offset, sectorSize);
            long sector = h.getLong();
            long sectors = h.getLong();
            long flags = h.getLong();
            long dataLength = h.getLong();
            String mark = null;
            if ((flags & MARK) != 0) {
                byte[] name = new byte[(int) dataLength];
                h.get(name);
                mark = new String(name, StandardCharsets.UTF_8).replace("\0", "");
            }
            entries.add(new Entry(i, offset, sector, sectors, flags, mark));
            long dataSectors = (flags & DISCARD) != 0 ? 0 : sectors;
            offset += sectorSize * (1 + dataSectors);
        }
        return new WriteLog(log, sectorSize, List.copyOf(entries));
    }

    List<Entry> entries() {
        return entries;
    }

    /** Writes the data of entries {@code from} (inclusive) to {@code to} (exclusive) onto {@code disk}. */
    void replay(FileChannel disk, int from, int to) throws IOException {
        for (Entry e : entries.subList(from, to)) {
            if (!e.isWrite()) {
                continue; // a discard leaves the blocks undefined: keeping the old ones is one of the outcomes
            }
            ByteBuffer data = read(log, e.logOffset() + sectorSize, e.sectors() * sectorSize);
            long position = e.sector() * sectorSize;
            while (data.hasRemaining()) {
                position += disk.write(data, position);
            }
        }
    }

    private static ByteBuffer read(FileChannel ch, long offset, long length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        long position = offset;
        while (b.hasRemaining()) {
            int n = ch.read(b, position);
            if (n < 0) {
                throw new IOException("the log ends inside an entry at byte " + position);
            }
            position += n;
        }
        return b.flip();
    }
}
