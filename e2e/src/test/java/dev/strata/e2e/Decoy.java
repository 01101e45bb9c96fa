package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A host directory an attacker aims at (outside every root Strata serves): secrets, a directory to
 * drop files into, a file to format or delete. Its fingerprint (every entry's path, type, mode,
 * owner, size and content hash) is taken before an attack and compared after.
 */
final class Decoy implements AutoCloseable {
    static final String SECRET = "host secret: root's password hash";

    private final Path dir;
    private final List<String> before;

    Decoy() throws IOException {
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "strata-decoy-");
        Files.writeString(dir.resolve("shadow"), SECRET);
        Files.createDirectories(dir.resolve("etc/kubelet/pods"));
        Files.writeString(dir.resolve("etc/kubelet/pods/token"), "service account token");
        Files.write(dir.resolve("victimfile"), new byte[64 << 10]);
        before = fingerprint();
    }

    Path dir() {
        return dir;
    }

    /** Fails naming what changed in the decoy since it was made. */
    void assertUnchanged() {
        assertEquals(before, fingerprint(), "the attack changed the host's files");
    }

    private List<String> fingerprint() {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.sorted().map(this::describe).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String describe(Path p) {
        try {
            var attrs = Files.readAttributes(p, "unix:mode,uid,gid,size", LinkOption.NOFOLLOW_LINKS);
            String content = Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                    ? HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))) : "";
            return dir.relativize(p) + " " + Integer.toOctalString((Integer) attrs.get("mode")) + " " + attrs.get("uid")
                    + ":" + attrs.get("gid") + " " + attrs.get("size") + " " + content;
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        Runc.run(List.of("rm", "-rf", "--one-file-system", "--", dir.toString()));
    }
}
