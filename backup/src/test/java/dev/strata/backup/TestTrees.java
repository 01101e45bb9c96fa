package dev.strata.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;

/** Builds trees on disk and describes them, so tests can compare a restore with its source. */
final class TestTrees {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    /** Everything a restore must reproduce about one entry. */
    record Description(String type, int mode, int uid, int gid, long mtimeNanos, long size, String contentHash,
            String target) {}

    private TestTrees() {}

    static String url(Path dir) {
        return "file://" + dir.toAbsolutePath();
    }

    static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new SplittableRandom(seed).nextBytes(data);
        return data;
    }

    static void writeRandom(Path file, long size, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= block.length) {
                random.nextBytes(block);
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        }
    }

    static void setMtime(Path path, long epochSeconds, long nanos) throws IOException {
        FileTime time = FileTime.from(epochSeconds * 1_000_000_000L + nanos, TimeUnit.NANOSECONDS);
        Files.getFileAttributeView(path, java.nio.file.attribute.BasicFileAttributeView.class, NOFOLLOW)
                .setTimes(time, time, null);
    }

    static void setMode(Path path, int mode) throws IOException {
        Files.setAttribute(path, "unix:mode", mode, NOFOLLOW);
    }

    /** Every entry under root (root itself as "."), by relative path. */
    static Map<String, Description> describe(Path root) throws IOException {
        Map<String, Description> tree = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                String relative = root.equals(path) ? "." : root.relativize(path).toString();
                tree.put(relative, describeOne(path));
            }
        }
        return tree;
    }

    private static Description describeOne(Path path) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:*", NOFOLLOW);
        boolean link = (Boolean) a.get("isSymbolicLink");
        boolean dir = (Boolean) a.get("isDirectory");
        String type = link ? "symlink" : dir ? "dir" : "file";
        int mode = link ? 0 : (Integer) a.get("mode") & 07777;
        long mtime = ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
        if (link) {
            mtime -= mtime % 1000; // the JDK sets a symlink's times with lutimes: microseconds only
        }
        return new Description(type, mode, (Integer) a.get("uid"), (Integer) a.get("gid"), mtime,
                type.equals("file") ? (Long) a.get("size") : 0,
                type.equals("file") ? sha256(Files.readAllBytes(path)) : null,
                link ? Files.readSymbolicLink(path).toString() : null);
    }

    /** Reads into a reused array hold exactly the object, whatever the array held before. */
    static void assertReadsIntoReusedArrays(BackupTarget target) throws Exception {
        byte[] big = TestTrees.random(100_000, 3);
        byte[] small = TestTrees.random(1_000, 4);
        target.put("big", big);
        target.put("small", small);
        byte[] reuse = new byte[200_000];
        Arrays.fill(reuse, (byte) 7);

        ByteBuffer read = target.get("big", reuse);
        assertSame(reuse, read.array(), "read into the array given");
        assertArrayEquals(big, TestTrees.bytes(read));
        read = target.get("small", reuse);
        assertArrayEquals(small, TestTrees.bytes(read));
        read = target.get("big", new byte[10]); // too small: a new array
        assertArrayEquals(big, TestTrees.bytes(read));
        assertThrows(NoSuchFileException.class, () -> target.get("absent", reuse));
    }

    /** The remaining bytes of {@code buffer}, leaving its position alone. */
    static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static void assertSameTree(Path expected, Path actual) throws IOException {
        assertEquals(describe(expected), describe(actual));
    }

    static BackupException assertFails(BackupException.Kind kind, Executable call) {
        BackupException e = assertThrows(BackupException.class, call);
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    /** Every object file under the target directory, temporary ones included. */
    static long countFiles(Path dir, String under) throws IOException {
        Path base = dir.resolve(under);
        if (!Files.exists(base)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(base)) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    /** The bytes of every regular file under {@code dir}: a tree's data, or what a target holds. */
    static long bytesIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
