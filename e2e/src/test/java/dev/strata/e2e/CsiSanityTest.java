package dev.strata.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The upstream CSI sanity suite (kubernetes-csi/csi-test's {@code csi-sanity}, pinned in
 * {@code e2e/sanity/go.mod} and built by {@code e2e/sanity/build} into a cache outside the clone)
 * against {@code strata standalone}, one engine at a time: every spec it runs must pass, and the
 * driver must leave nothing mounted (DriverProcess.close checks). The thin engine's run is in the
 * VM ({@code CsiSanityVmTest}). Each run's output is in {@code target/sanity-ENGINE.log}.
 */
class CsiSanityTest {
    private static final Path REPO = Files.isDirectory(Path.of("..", "e2e", "sanity"))
            ? Path.of("..").toAbsolutePath().normalize() : Path.of("").toAbsolutePath();
    private static final Pattern SUMMARY = Pattern.compile("(\\d+) Passed \\| (\\d+) Failed");
    private static Path sanity;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "csi-sanity mounts: needs root");
        sanity = built();
    }

    /** The cached csi-sanity, built first when the cache lacks it; skips when there is no Go to build it. */
    static Path built() throws IOException, InterruptedException {
        Path log = Files.createDirectories(Path.of("target")).resolve("sanity-build.log");
        Process build = new ProcessBuilder(REPO.resolve("e2e/sanity/build").toString())
                .redirectError(log.toFile()).start();
        String path = new String(build.getInputStream().readAllBytes()).strip();
        assertTrue(build.waitFor(15, TimeUnit.MINUTES), "e2e/sanity/build took over 15 minutes");
        String errors = read(log);
        if (build.exitValue() != 0 && errors.contains("Go is needed")) {
            Assumptions.abort("Go is missing: csi-sanity is built from e2e/sanity/go.mod");
        }
        assertEquals(0, build.exitValue(), () -> "e2e/sanity/build failed: " + errors);
        return Path.of(path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dir", "shared", "hostpath", "overlay"})
    void everySanitySpecPasses(String engine) throws Exception {
        try (DriverProcess driver = new DriverProcess("--max-volumes-per-node", "4").start()) {
            assertEverySpecPasses(sanity, engine, driver);
        }
    }

    /**
     * The dir engine again (a tree of files), and overlay (layers), every snapshot a remote one
     * (issue 16): the VolumeSnapshotClass names a backup target in a directory, so each
     * CreateSnapshot also uploads, and DeleteSnapshot removes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"dir", "overlay"})
    void everySanitySpecPassesWithARemoteSnapshotClass(String engine) throws Exception {
        try (DriverProcess driver = new DriverProcess("--max-volumes-per-node", "4").start()) {
            Path snapshotParameters = Files.writeString(driver.root().resolve("snapshot-parameters.yaml"),
                    "backupTarget: file://" + driver.root().resolve("backups") + "\n");
            assertEverySpecPasses(sanity, engine, driver, List.of("--csi.testsnapshotparameters=" + snapshotParameters));
            assertTrue(Files.readString(driver.root().resolve("driver-1.log")).contains("stored in file://"),
                    "no snapshot was uploaded");
            try (var left = Files.walk(driver.root().resolve("backups"))) {
                assertEquals(List.of(), left.filter(Files::isRegularFile).map(Path::toString)
                        .filter(f -> f.contains("/chunks/") || f.contains("/packs/") || f.contains("/backups/backups/"))
                        .toList(), "every snapshot was deleted: none of their manifests, chunks and packs may be left");
            }
        }
    }

    /** csi-sanity on {@code engine}'s volumes of {@code driver}: it ran specs, and none failed. */
    static void assertEverySpecPasses(Path sanity, String engine, DriverProcess driver) throws Exception {
        assertEverySpecPasses(sanity, engine, driver, List.of());
    }

    private static void assertEverySpecPasses(Path sanity, String engine, DriverProcess driver, List<String> options)
            throws Exception {
        assertEverySpecPasses(sanity, engine, "", driver, options);
    }

    /** As above, with more of the volumes' parameters ({@code parameters}: YAML lines) and csi-sanity options. */
    static void assertEverySpecPasses(Path sanity, String engine, String parameters, DriverProcess driver,
            List<String> options) throws Exception {
        String output = run(sanity, engine, parameters, driver.socket(), driver.root(), options);
        Matcher summary = SUMMARY.matcher(output);
        assertTrue(summary.find(), () -> "no summary in csi-sanity's output:\n" + tail(output) + driver.logTail());
        assertEquals("0", summary.group(2), () -> tail(output) + driver.logTail());
        assertTrue(Integer.parseInt(summary.group(1)) > 0, "csi-sanity ran no spec");
    }

    /** Runs csi-sanity on {@code engine}'s volumes; returns its output, failing on a non-zero exit. */
    private static String run(Path sanity, String engine, String moreParameters, Path socket, Path work,
            List<String> options) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("sanity"));
        Path parameters = Files.writeString(dir.resolve("parameters.yaml"), "engine: " + engine + "\n" + moreParameters);
        List<String> command = new ArrayList<>(List.of(sanity.toString(), "--csi.endpoint=unix://" + socket,
                "--csi.mountdir=" + dir.resolve("mount"), "--csi.stagingdir=" + dir.resolve("staging"),
                "--csi.testnodevolumeattachlimit", "--csi.testvolumeparameters=" + parameters, "--ginkgo.no-color"));
        // The engines with mutable parameters: ControllerModifyVolume's specs run on them (csi-sanity's
        // targets belong to no pod, so a thin volume's I/O limit is recorded and applied to none).
        String mutableParameters = switch (engine) {
            case "dir", "shared" -> "mode: \"0770\"\n";
            case "thin" -> "writeIOPS: \"1000\"\n";
            default -> null;
        };
        if (mutableParameters != null) {
            Path mutable = Files.writeString(dir.resolve("mutable.yaml"), mutableParameters);
            command.add("--csi.testvolumemutableparameters=" + mutable);
        }
        command.addAll(options);
        Path log = Path.of("target").resolve("sanity-" + engine + (options.isEmpty() ? "" : "-options")
                + (moreParameters.isEmpty() ? "" : "-parameters") + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("csi-sanity on " + engine + " took over 10 minutes:\n" + tail(read(log)));
        }
        String output = read(log);
        assertEquals(0, process.exitValue(), () -> "csi-sanity on " + engine + " failed:\n" + tail(output));
        return output;
    }

    private static String read(Path log) throws IOException {
        return Files.readString(log);
    }

    private static String tail(String output) {
        return output.length() <= 20_000 ? output : output.substring(output.length() - 20_000);
    }
}
