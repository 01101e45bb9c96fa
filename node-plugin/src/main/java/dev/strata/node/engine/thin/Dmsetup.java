package dev.strata.node.engine.thin;

import dev.strata.common.exec.CommandRunner;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * dmsetup, through the command runner. {@code --verifyudev}: where udev does not run (containers,
 * the test VM) dmsetup makes and removes /dev/mapper/NAME itself; where udev runs it only checks.
 */
final class Dmsetup {
    private final CommandRunner runner;

    Dmsetup(CommandRunner runner) {
        this.runner = runner;
    }

    void create(String name, String table) throws IOException {
        run("create", name, "--table", table);
    }

    /** Loads a new table and makes it live: the device is suspended for the instant of the swap. */
    void reload(String name, String table) throws IOException {
        run("reload", name, "--table", table);
        run("resume", name);
    }

    void suspend(String name) throws IOException {
        run("suspend", name);
    }

    void resume(String name) throws IOException {
        run("resume", name);
    }

    /** Removes the device; a device that does not exist counts as removed. */
    void remove(String name) throws IOException {
        if (exists(name)) {
            run("remove", "--retry", name);
        }
    }

    String message(String pool, String message) throws IOException {
        return run("message", pool, "0", message);
    }

    String table(String name) throws IOException {
        return run("table", name).strip();
    }

    String status(String name) throws IOException {
        return run("status", name).strip();
    }

    boolean exists(String name) {
        return runner.run("dmsetup", "info", name).ok();
    }

    /** Names of the active devices of a target type ("thin", "thin-pool"). */
    List<String> list(String target) throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : run("ls", "--target", target).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 1 && !f[0].isEmpty() && !line.contains("No devices found")) {
                names.add(f[0]);
            }
        }
        return names;
    }

    private String run(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("dmsetup", "--verifyudev"));
        command.addAll(List.of(args));
        return runner.run(command).checkIo().stdout();
    }
}
