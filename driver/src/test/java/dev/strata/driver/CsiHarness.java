package dev.strata.driver;

import dev.strata.common.grpc.Endpoint;
import dev.strata.node.storage.StorageConfig;
import dev.strata.testkit.Csi;
import dev.strata.testkit.CsiCalls;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The standalone driver in this JVM, on a fresh directory for each test, with a client connected
 * over its Unix socket: the testkit's {@link CsiCalls} bound to {@link Standalone}. Register it as an
 * instance field:
 * <pre>{@code @RegisterExtension final CsiHarness csi = new CsiHarness();}</pre>
 */
final class CsiHarness extends CsiCalls {
    static final long DEFAULT_VOLUME_BYTES = 1L << 30;

    private final int maxVolumesPerNode;
    private Path backupKeyFile;
    private Standalone standalone;
    private CsiCalls.Connection connection;

    CsiHarness() {
        this(1024);
    }

    CsiHarness(int maxVolumesPerNode) {
        this.maxVolumesPerNode = maxVolumesPerNode;
    }

    @Override
    public ManagedChannel channel() {
        return connection.channel();
    }

    StorageConfig config() {
        return new StorageConfig(dataDir(), Csi.NODE_ID, "dir", DEFAULT_VOLUME_BYTES, maxVolumesPerNode,
                List.of(hostRoot())).withBackupKeyFile(backupKeyFile);
    }

    /** The driver's --backup-key-file from the next (re)start on; null: none. */
    void backupKeyFile(Path keyFile) {
        this.backupKeyFile = keyFile;
    }

    /** The one host directory this driver allows hostpath volumes under. */
    Path hostRoot() {
        return root().resolve("host");
    }

    /** Stops the driver as an orderly shutdown would, and starts a new one on the same data. */
    void restart() throws IOException {
        stop();
        start();
    }

    @Override
    public void start() throws IOException {
        Files.createDirectories(hostRoot());
        standalone = Standalone.start(Endpoint.parse("unix://" + socket()), config(), Duration.ofSeconds(5));
        connection = new CsiCalls.Connection(socket());
    }

    @Override
    public void stop() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
        if (standalone != null) {
            standalone.close();
            standalone = null;
        }
    }
}
