package dev.strata.common.exec;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs external tools (mount, umount, cp, mkfs, dmsetup, ...). Every run is logged with its command
 * line, exit code, duration and, on failure, its stderr, so that what Strata did to the host can be
 * read back from the log.
 *
 * <p>Every tool starts in an empty directory of its own, never the driver's (which is {@code /} in
 * the image): an argument that slipped through as a relative path then names nothing on the host.
 * Callers put {@code --} before positional arguments wherever the tool understands it.
 */
public class CommandRunner {
    private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);
    private static final long DEFAULT_TIMEOUT_SECONDS = 600;
    private static final File DEV_NULL = new File("/dev/null");
    /** Output is drained on its own threads so that a chatty tool can never block on a full pipe. */
    private static final ExecutorService STREAM_READERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "exec-output");
        t.setDaemon(true);
        return t;
    });

    /** The outcome of one run. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Throws {@link CommandFailedException} unless the command exited 0. */
        public Result check() {
            if (!ok()) {
                throw new CommandFailedException(this);
            }
            return this;
        }

        /**
         * {@link #check()} for callers whose tools' failures are I/O failures: an IOException with the
         * same message, saying what ran, how it exited and what it said.
         */
        public Result checkIo() throws IOException {
            if (!ok()) {
                throw new IOException(failure());
            }
            return this;
        }

        /** The command line, its exit code and its stderr: what a failure's message says. */
        public String failure() {
            return String.join(" ", command) + " exited " + exitCode + ": " + stderr.strip();
        }
    }

    /** A command that exited non-zero; its message carries the command, exit code and stderr. */
    public static final class CommandFailedException extends RuntimeException {
        private final transient Result result;

        public CommandFailedException(Result result) {
            super(result.failure());
            this.result = result;
        }

        public Result result() {
            return result;
        }
    }

    public Result run(String... command) {
        return run(List.of(command));
    }

    public Result run(List<String> command) {
        return run(command, null);
    }

    /**
     * Runs {@code command} with {@code input} on its standard input (null: /dev/null). This is how a
     * secret reaches a tool (cryptsetup's {@code --key-file -}): never on the command line, which
     * is logged here and readable by anyone in /proc; the input itself is never logged.
     */
    public Result run(List<String> command, byte[] input) {
        long start = System.nanoTime();
        Process process;
        try {
            process = new ProcessBuilder(command).directory(Workdir.DIR)
                    .redirectInput(input == null ? ProcessBuilder.Redirect.from(DEV_NULL)
                            : ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            LOG.warn("exec {} failed to start: {}", command, e.getMessage());
            return new Result(command, 127, "", e.getMessage());
        }
        // Both streams drain on their own threads, so a tool that hangs with its output open still
        // meets the timeout below.
        CompletableFuture<String> stderr = readAsync(process.getErrorStream());
        CompletableFuture<String> stdout = readAsync(process.getInputStream());
        if (input != null) {
            feed(process, input);
        }
        int exit;
        try {
            if (!process.waitFor(DEFAULT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                exit = 124;
            } else {
                exit = process.exitValue();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            exit = 130;
        }
        Result result = new Result(command, exit, stdout.join(), stderr.join());
        long micros = (System.nanoTime() - start) / 1000;
        if (result.ok()) {
            LOG.debug("exec {} exit=0 in {}us", String.join(" ", command), micros);
        } else {
            LOG.info("exec {} exit={} in {}us stderr={}", String.join(" ", command), exit, micros,
                    result.stderr().strip());
        }
        return result;
    }

    /** Writes the input and closes the pipe; a tool that exits without reading it all is not an error here. */
    private static void feed(Process process, byte[] input) {
        try (var stdin = process.getOutputStream()) {
            stdin.write(input);
        } catch (IOException e) {
            LOG.debug("exec {}: its input was not all read ({})", process.pid(), e.getMessage());
        }
    }

    /** The empty, private working directory of every tool: made at the first run, removed at exit. */
    private static final class Workdir {
        static final File DIR = emptyDirectory();
    }

    private static File emptyDirectory() {
        try {
            File dir = java.nio.file.Files.createTempDirectory("strata-exec-",
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("r-x------"))).toFile();
            dir.deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot make the tools' working directory", e);
        }
    }

    private static CompletableFuture<String> readAsync(InputStream in) {
        return CompletableFuture.supplyAsync(() -> read(in), STREAM_READERS);
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
