package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.testkit.CsiCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A crash point added to the main code needs a scenario in {@link CrashRecoveryTest} or
 * {@link BackupCrashRecoveryTest} (standalone), or {@link NodePluginCrashTest} (the node plugin of a
 * cluster).
 */
class CrashPointCoverageTest {
    private static final Pattern REACH = Pattern.compile("CrashPoint\\.reach\\(\"([^\"]+)\"\\)");

    @Test
    void everyCrashPointInTheSourcesHasAScenario() throws IOException {
        Path modules = Path.of("").toAbsolutePath().getParent();
        Assumptions.assumeTrue(Files.isDirectory(modules.resolve("node-plugin/src/main/java")),
                "the other modules' sources are not next to this one");
        Set<String> inSources = new TreeSet<>();
        for (String module : CsiCalls.names(modules)) {
            Path sources = modules.resolve(module).resolve("src/main/java");
            if (!Files.isDirectory(sources)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(sources)) {
                for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    REACH.matcher(Files.readString(f)).results().forEach(m -> inSources.add(m.group(1)));
                }
            }
        }
        Set<String> tested = new TreeSet<>(CrashRecoveryTest.crashPoints());
        tested.addAll(BackupCrashRecoveryTest.crashPoints());
        tested.addAll(NodePluginCrashTest.CRASH_POINTS);
        assertEquals(inSources, tested);
    }
}
