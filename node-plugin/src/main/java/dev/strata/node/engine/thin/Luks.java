package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.VolumeKey;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * LUKS2 through Debian's cryptsetup. The key always goes in on standard input ({@code --key-file -}),
 * never on a command line, which the runner logs and /proc shows to anyone on the node.
 */
final class Luks {
    /**
     * Where the data starts on the device: the header (two copies of the metadata and the key
     * slots). Set explicitly, so that a volume's data area is exactly its size whatever
     * cryptsetup's defaults become.
     */
    static final long HEADER_BYTES = 16L << 20;
    /**
     * The key-derivation function's cost, fixed: argon2id over 64 MiB, 4 passes, one lane. That is
     * RFC 9106's setting for memory-constrained use (64 MiB, 3 passes) at cryptsetup's minimum of 4
     * passes, about 0.3 s of one core per try on our test machine, and within what a node plugin
     * held to a few hundred MiB can give (cryptsetup's default lets argon2id take up to 1 GiB). Not
     * benchmarked: cryptsetup's benchmark added about 5 s to every new volume's first stage
     * (14 s under the VM's emulation, where it settled on these same 4 passes), and on a busy node
     * it calibrates a weaker key slot. The key is usually random anyway.
     */
    private static final List<String> PBKDF = List.of("--pbkdf", "argon2id", "--pbkdf-memory", "65536",
            "--pbkdf-parallel", "1", "--pbkdf-force-iterations", "4");
    /** cryptsetup's exit code for a passphrase that opens no key slot. */
    private static final int WRONG_KEY = 2;

    private final CommandRunner runner;

    Luks(CommandRunner runner) {
        this.runner = runner;
    }

    /** Whether the device starts with a LUKS header (a fresh thin device reads as zeros: no). */
    boolean isLuks(String device) throws IOException {
        CommandRunner.Result r = runner.run("cryptsetup", "isLuks", "--", device);
        if (r.exitCode() > 1) {
            r.checkIo();
        }
        return r.ok();
    }

    /** Writes a new LUKS2 header with one key slot for {@code key}: whatever the device held is lost. */
    void format(String device, VolumeKey key) throws IOException {
        List<String> command = new ArrayList<>(List.of("cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2",
                "--offset", Long.toString(HEADER_BYTES / 512)));
        command.addAll(PBKDF);
        command.addAll(List.of("--key-file", "-", "--", device));
        runner.run(command, key.bytes()).checkIo();
    }

    /**
     * Opens the device as /dev/mapper/{@code name}. Discards pass through, so that what the
     * filesystem frees goes back to the thin pool (they show which blocks are unused, nothing of
     * their content). The volume key stays in the dm table rather than the kernel keyring, so that
     * a later resize needs no key. A key that opens nothing is the caller's mistake, named as
     * {@code field}; nothing is changed then.
     */
    void open(String device, String name, VolumeKey key, String field, String volumeId) throws IOException {
        unlock(List.of("--allow-discards", "--disable-keyring", "--key-file", "-", "--", device, name), key, field,
                volumeId);
    }

    /** Checks that {@code key} opens the device, and opens nothing: for a mapping open already. */
    void verify(String device, VolumeKey key, String field, String volumeId) throws IOException {
        unlock(List.of("--test-passphrase", "--key-file", "-", "--", device), key, field, volumeId);
    }

    private void unlock(List<String> arguments, VolumeKey key, String field, String volumeId) throws IOException {
        List<String> command = new ArrayList<>(List.of("cryptsetup", "open", "--type", "luks2"));
        command.addAll(arguments);
        CommandRunner.Result r = runner.run(command, key.bytes());
        if (r.exitCode() == WRONG_KEY) {
            throw CsiException.invalidArgument(field, "does not open volume " + volumeId
                    + ": no key slot of its LUKS2 header takes this key");
        }
        r.checkIo();
    }

    /** Closes the mapping; one that is not open counts as closed. */
    void close(String name, Dmsetup dm) throws IOException {
        if (dm.exists(name)) {
            runner.run("cryptsetup", "close", "--", name).checkIo();
        }
    }

    /** Makes the open mapping as large as its (grown) device allows, online. */
    void resize(String name) throws IOException {
        runner.run("cryptsetup", "resize", "--", name).checkIo();
    }

    /**
     * Destroys the header: every key slot first (cryptsetup erase, after which no key opens the
     * data), then the whole header area is zeroed, so that the device no longer even reads as LUKS.
     */
    void wipe(String device) throws IOException {
        if (isLuks(device)) {
            runner.run("cryptsetup", "erase", "--batch-mode", "--", device).checkIo();
        }
        runner.run("blkdiscard", "--zeroout", "--length", Long.toString(HEADER_BYTES), "--",
                device).checkIo();
    }
}
