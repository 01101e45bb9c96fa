package dev.strata.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The alert rules (charts/strata/rules/strata.rules.yaml) checked and unit-tested by Prometheus's
 * own promtool: deploy/promtool/strata-rules.test.yaml feeds series and says which alerts fire when,
 * with which labels and text.
 */
class AlertRulesTest {
    private static final Path RULES = Manifests.CHART.resolve("rules/strata.rules.yaml");
    private static final Path TESTS = Manifests.REPO.resolve("deploy/promtool/strata-rules.test.yaml");

    private static String promtool() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "promtool");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    @Test
    void theRulesAreValidAndFireWhenTheirTestsSay() throws Exception {
        String promtool = promtool();
        assumeTrue(promtool != null, "promtool is not installed (Debian package prometheus; .ci/install-deps test)");
        String check = run(List.of(promtool, "check", "rules", RULES.toString()));
        assertTrue(check.contains("SUCCESS"), check);
        String test = run(List.of(promtool, "test", "rules", TESTS.toString()));
        assertTrue(test.contains("SUCCESS"), test);
    }
}
