package dev.strata.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.strata.common.CsiException;
import dev.strata.common.Validate;
import dev.strata.node.engine.hostpath.HostPathFuzzing;
import dev.strata.node.engine.thin.MkfsFuzzing;
import dev.strata.node.storage.EphemeralPolicy;
import dev.strata.node.sys.FileHandle;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import jnr.ffi.LibraryLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of every piece of code that takes what a tenant controls: paths
 * resolved below a root in a real directory tree (with links out of it, and a directory that a
 * thread keeps exchanging with a link to the outside while the fuzzer runs), hostpath patterns and
 * the PVC values that fill them, inline volume attributes, {@code mkfsOptions}, and the CO's paths.
 * The property, for every input: nothing outside the root is ever reached, and the only failures
 * are the mapped ones (INVALID_ARGUMENT, or a file error that names the refusal). In CI the fuzzer
 * runs for a minute ({@code JAZZER_FUZZ=1}, node-plugin's pom); a plain run replays the inputs in
 * {@code src/test/resources/.../UntrustedInputFuzzTestInputs}.
 */
class UntrustedInputFuzzTest {
    private static Path tree;
    private static Path root;
    private static Path outside;
    private static Thread racer;
    private static volatile boolean racing;

    /** renameat2 with RENAME_EXCHANGE: what a pod's process does to swap a directory and a link. */
    public interface Exchange {
        int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);
    }

    @BeforeAll
    static void tree() throws IOException {
        tree = Files.createTempDirectory("strata-fuzz-");
        root = Files.createDirectories(tree.resolve("root"));
        outside = Files.createDirectories(tree.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host secret");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/file"), "tenant");
        Files.createSymbolicLink(root.resolve("a/up"), Path.of("../../outside"));
        Files.createSymbolicLink(root.resolve("abs"), outside);
        Files.createSymbolicLink(root.resolve("inside"), Path.of("a/b"));
        Files.createDirectories(root.resolve("race/d"));
        Files.createSymbolicLink(root.resolve("race/l"), outside);
        Exchange exchange = LibraryLoader.create(Exchange.class).load("c");
        String d = root.resolve("race/d").toString();
        String l = root.resolve("race/l").toString();
        racing = true;
        racer = new Thread(() -> {
            while (racing) {
                exchange.renameat2(-100, d, -100, l, 2 /* RENAME_EXCHANGE */);
            }
        }, "fuzz-racer");
        racer.setDaemon(true);
        racer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        racing = false;
        racer.join();
        new ProcessBuilder("rm", "-rf", "--", tree.toString()).start().waitFor();
    }

    @FuzzTest(maxDuration = "60s")
    void untrustedInputNeverReachesOutsideItsRoot(FuzzedDataProvider data) throws IOException {
        switch (data.consumeInt(0, 4)) {
            case 0 -> pathBelowRoot(data.consumeRemainingAsString());
            case 1 -> HostPathFuzzing.pattern(root, data.consumeString(64), data.consumeString(64),
                    data.consumeRemainingAsString());
            case 2 -> inlineAttributes(data.consumeString(32), data.consumeString(32), data.consumeRemainingAsString());
            case 3 -> MkfsFuzzing.options(data.consumeBoolean() ? "xfs" : "ext4", data.consumeRemainingAsString());
            default -> coPath(data.consumeRemainingAsString());
        }
    }

    /** openat2 below the root: whatever opens is inside it; everything else is a refusal, not a bug. */
    private static void pathBelowRoot(String relative) throws IOException {
        if (relative.indexOf('\0') >= 0) {
            return; // a C string ends there: the callers refuse NUL before (HostPaths, Validate)
        }
        try (FileHandle r = FileHandle.open(root); FileHandle opened = r.beneath(relative, 0)) {
            Path real = opened.realPath();
            assertTrue(real.startsWith(root.toRealPath()), relative + " opened " + real);
            assertFalse(opened.stat().isSymbolicLink(), relative);
        } catch (FileSystemException e) {
            // a refusal (a link, a way out, no such file, a name too long): what the caller reports
        }
    }

    private static final EphemeralPolicy POLICY = new EphemeralPolicy("overlay", Set.of("size"), 1L << 30, 8);

    /** Inline attributes: only the allowed keys become parameters, and the engine is the node's. */
    private static void inlineAttributes(String key, String value, String size) {
        Map<String, String> attributes = new HashMap<>();
        attributes.put(key, value);
        attributes.put("size", size);
        try {
            Map<String, String> parameters = POLICY.parameters(attributes);
            assertEquals("overlay", parameters.get("engine"));
            assertEquals(1, parameters.size(), parameters.toString());
            long bytes = POLICY.size(size, 1L << 20);
            assertTrue(bytes > 0 && bytes <= 1L << 30, size);
        } catch (CsiException e) {
            assertInvalidArgument(e);
        }
    }

    /** The CO's paths: accepted ones are absolute, plain and within the kernel's limits. */
    private static void coPath(String text) {
        try {
            Path p = Validate.absolutePath("target_path", text);
            assertTrue(p.isAbsolute());
            for (Path part : p) {
                assertFalse(part.toString().equals("..") || part.toString().equals("."), text);
                assertTrue(part.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 255, text);
            }
        } catch (CsiException e) {
            assertInvalidArgument(e);
        }
    }

    public static void assertInvalidArgument(CsiException e) {
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }
}
