package dev.strata.node.engine.thin;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * A fingerprint of bytes, for the VM's tests that compare what a device holds with what was written
 * or backed up: the CRC-32 of each MiB, in order, and the length. The same bytes give the same
 * fingerprint however they are handed in.
 *
 * <p>Why not SHA-256: the VM's JVM runs C1 only, which has no SHA intrinsic, and the emulated CPU
 * ran the JDK's Java SHA-256 at about 5 MB/s (25 s for each 128 MiB device in ThinBackupVmTest,
 * a critical path of CI). CRC-32 is an intrinsic in C1 and in the interpreter. Any change within one
 * MiB changes its CRC, but for one change in four billion; the data compared is random or stamped,
 * never chosen to collide.
 */
public final class ContentDigest {
    private static final int BLOCK = 1 << 20;

    private final ByteBuffer crcs = ByteBuffer.allocate(1 << 16); // 16,384 MiB at 4 bytes each
    private final CRC32 crc = new CRC32();
    private int inBlock;
    private long length;

    public void update(byte[] bytes, int offset, int count) {
        while (count > 0) {
            int n = Math.min(count, BLOCK - inBlock);
            crc.update(bytes, offset, n);
            inBlock += n;
            length += n;
            offset += n;
            count -= n;
            if (inBlock == BLOCK) {
                endBlock();
            }
        }
    }

    public void update(byte[] bytes) {
        update(bytes, 0, bytes.length);
    }

    /** The CRC of each MiB (the last one maybe short) and the length; the digest ends here. */
    public byte[] digest() {
        if (inBlock > 0) {
            endBlock();
        }
        crcs.putLong(length);
        byte[] out = new byte[crcs.position()];
        crcs.flip().get(out);
        return out;
    }

    private void endBlock() {
        crcs.putInt((int) crc.getValue());
        crc.reset();
        inBlock = 0;
    }

    /** The digest of a device's (or file's) first {@code length} bytes. */
    public static byte[] of(Path device, long length) throws IOException {
        ContentDigest digest = new ContentDigest();
        ByteBuffer buffer = ByteBuffer.allocate(4 * BLOCK);
        try (FileChannel in = FileChannel.open(device, StandardOpenOption.READ)) {
            for (long at = 0; at < length; ) {
                int n = in.read(buffer.clear().limit((int) Math.min(buffer.capacity(), length - at)), at);
                if (n < 0) {
                    break; // shorter than asked: the length in the digest says so
                }
                digest.update(buffer.array(), 0, n);
                at += n;
            }
        }
        return digest.digest();
    }
}
