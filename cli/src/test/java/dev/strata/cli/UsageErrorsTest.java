package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.cli.Cli.Result;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input, as docker answers it: exit code 2, one line saying what is wrong, the help of the option
 * or argument at fault and no other, where the rest is; and nothing sent to the driver.
 */
class UsageErrorsTest {
    @TempDir
    Path tmp;
    FakeCsiPlugin plugin;
    Cli cli;

    @BeforeEach
    void start() throws Exception {
        plugin = new FakeCsiPlugin(tmp.resolve("csi.sock"));
        cli = new Cli(tmp.resolve("csi.sock"));
    }

    @AfterEach
    void stop() throws Exception {
        plugin.close();
    }

    /** Asserts the one line, the usage of {@code flag} only (its first help line), the pointer to --help. */
    private void assertUsageError(Result r, String line, String flag, String command) {
        assertEquals(2, r.code(), r::toString);
        assertEquals("", r.out());
        List<String> err = r.err().lines().toList();
        assertEquals("stratactl: " + line, err.get(0));
        assertTrue(err.get(1).strip().startsWith(flag), () -> "usage of " + flag + " only:\n" + r.err());
        assertTrue(err.subList(2, err.size() - 1).stream().allMatch(l -> l.startsWith("                ")),
                () -> "only " + flag + "'s help:\n" + r.err());
        assertEquals("See 'stratactl " + command + " --help'.", err.get(err.size() - 1));
        assertTrue(plugin.calls.isEmpty(), () -> "sent to the driver: " + plugin.calls);
    }

    @Test
    void aSizeOfZeroIsRefused() {
        assertUsageError(cli.run("volume", "create", "data", "--size", "0"),
                "Invalid value for option '--size': a size of 0 is not a size (examples: 1Gi, 512Mi, 10G)",
                "--size=SIZE", "volume create");
        assertUsageError(cli.run("bench", "lifecycle", "--size", "0Gi"),
                "Invalid value for option '--size': a size of 0 is not a size (examples: 1Gi, 512Mi, 10G)",
                "--size=SIZE", "bench lifecycle");
    }

    @Test
    void aBadSizeIsOneLineAndTheSizeFlag() {
        Result r = cli.run("volume", "create", "data", "--size", "12Q");
        assertUsageError(r, "Invalid value for option '--size': not a size: '12Q' (examples: 1Gi, 512Mi, 10G, 4096)",
                "--size=SIZE", "volume create");
        assertFalse(r.err().contains("--param"), r.err());
    }

    @Test
    void namesAreValidatedAsDockerValidatesVolumeNames() {
        String allowed = "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed";
        assertUsageError(cli.run("volume", "create", "bad name!"), "Invalid value for positional parameter at index 0 "
                + "(NAME): \"bad name!\" includes invalid characters for a name, " + allowed, "NAME", "volume create");
        // an option, not a name, to picocli as to docker
        assertUsageError(cli.run("volume", "create", "-dash"), "Missing required parameter: 'NAME'", "NAME",
                "volume create");
        assertUsageError(cli.run("volume", "create", "x"), "Invalid value for positional parameter at index 0 "
                + "(NAME): \"x\" includes invalid characters for a name, " + allowed + ", and at least 2 of them",
                "NAME", "volume create");
        assertUsageError(cli.run("volume", "create", "../up"), "Invalid value for positional parameter at index 0 "
                + "(NAME): \"../up\" includes invalid characters for a name, " + allowed, "NAME", "volume create");
        assertUsageError(cli.run("snapshot", "create", "data", "--name", "snap/1"), "Invalid value for option "
                + "'--name': \"snap/1\" includes invalid characters for a name, " + allowed, "--name=NAME",
                "snapshot create");
        for (String good : List.of("ab", "a_b", "web.data-2", "0x")) {
            Cli.assertOk(cli.run("volume", "create", good));
        }
    }

    @Test
    void aMissingArgumentShowsItsUsage() {
        assertUsageError(cli.run("snapshot", "create", "data"), "Missing required option: '--name=NAME'",
                "--name=NAME", "snapshot create");
        assertUsageError(cli.run("umount", "data"), "Missing required parameter: 'TARGET'", "TARGET", "umount");
    }

    @Test
    void aGroupAloneNamesItsCommands() {
        Result r = cli.run("volume");
        assertEquals(2, r.code());
        assertEquals(List.of("stratactl: Missing required subcommand: one of create, ls, inspect, rm, move",
                "See 'stratactl volume --help'."), r.err().lines().toList());
    }
}
