package dev.strata.node.engine;

import dev.strata.node.mount.MountTable;
import dev.strata.node.mount.Mounter;
import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A scratch directory for tests that mount, as root: the test is skipped, saying why, when not
 * root; afterwards every mount left under the directory is detached before the directory goes
 * (deleting through a mount would reach into what is mounted).
 */
public final class MountScratch implements BeforeEachCallback, AfterEachCallback {
    private final String needs;
    private final Mounter mounter = new Mounter();
    private Path dir;

    /** {@code needs}: what the tests do as root, for the skip message. */
    public MountScratch(String needs) {
        this.needs = needs;
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: " + needs);
        dir = Files.createTempDirectory("strata-test-").toRealPath();
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (dir == null) {
            return;
        }
        for (Path p : MountTable.read().under(dir)) {
            mounter.detach(p);
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
