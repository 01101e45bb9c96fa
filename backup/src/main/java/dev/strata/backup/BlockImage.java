package dev.strata.backup;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A block device as a backup reads it or a restore writes it (a thin snapshot's device, a new thin
 * volume's). Reads and writes are positional and may run on any one thread.
 */
public interface BlockImage {
    /** The device's size in bytes. */
    long sizeBytes();

    /** Fills {@code into} with the bytes from {@code offset} on; the device is at least that long. */
    void read(long offset, ByteBuffer into) throws IOException;

    /** Writes all of {@code data} at {@code offset}. */
    void write(long offset, ByteBuffer data) throws IOException;

    /** Makes what was written durable. */
    void flush() throws IOException;

    /**
     * The image on an open channel of a device (or a file), of {@code sizeBytes}: a block device's
     * channel does not know its own size. Closing the channel is the caller's.
     */
    static BlockImage of(FileChannel channel, long sizeBytes) {
        return new BlockImage() {
            @Override
            public long sizeBytes() {
                return sizeBytes;
            }

            @Override
            public void read(long offset, ByteBuffer into) throws IOException {
                long at = offset;
                while (into.hasRemaining()) {
                    int n = channel.read(into, at);
                    if (n < 0) {
                        throw new EOFException("the device ends at " + at + ", before " + sizeBytes + " bytes");
                    }
                    at += n;
                }
            }

            @Override
            public void write(long offset, ByteBuffer data) throws IOException {
                long at = offset;
                while (data.hasRemaining()) {
                    at += channel.write(data, at);
                }
            }

            @Override
            public void flush() throws IOException {
                channel.force(false);
            }
        };
    }
}
