package dev.strata.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real OCI containers with Debian's {@code runc}: an image made of busybox-static (one binary and a
 * symbolic link per applet), the configuration of {@code runc spec} edited as Docker would for
 * {@code docker run -v SRC:DST[:ro] busybox sh -c SCRIPT}. The containers' state lives in a directory of
 * its own ({@code runc --root}), so that {@link #deleteAll()} removes exactly the containers a test made.
 */
final class Runc {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path BUSYBOX = Stream.of("/bin/busybox", "/usr/bin/busybox").map(Path::of)
            .filter(Files::isExecutable).findFirst().orElse(null);
    /** Mount points the scenarios use, made in the image so that its root can stay read-only. */
    private static final List<String> MOUNT_POINTS = List.of("data", "data2", "backup", "logs", "proc", "sys", "dev",
            "tmp");

    /** A bind mount into the container: Docker's {@code -v source:destination[:ro]}. */
    record Mount(Path source, String destination, boolean readOnly) {
        static Mount rw(Path source, String destination) {
            return new Mount(source, destination, false);
        }
    }

    /** What a container (or an exec in it) did: exit status and its output. */
    record Result(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + ", stdout [" + stdout + "], stderr [" + stderr + "]";
        }
    }

    private final Path dir;
    private final Path rootfs;
    private final Path state;
    private final ObjectNode spec;

    /** Builds the image and the base configuration under {@code dir}. */
    Runc(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.rootfs = Files.createDirectories(dir.resolve("rootfs"));
        this.state = Files.createDirectories(dir.resolve("state"));
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"));
        for (String applet : run(List.of(BUSYBOX.toString(), "--list")).stdout().split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(bin.resolve(applet.strip()), Path.of("busybox"));
            }
        }
        for (String d : MOUNT_POINTS) {
            Files.createDirectories(rootfs.resolve(d));
        }
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/app.conf"), "");
        Path template = Files.createDirectories(dir.resolve("template"));
        check(run(List.of("runc", "spec", "--bundle", template.toString())), "runc spec");
        this.spec = (ObjectNode) JSON.readTree(template.resolve("config.json").toFile());
    }

    /** Why containers cannot run here, or null when they can. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "needs root: runc runs real containers";
        }
        if (BUSYBOX == null) {
            return "needs busybox-static (/bin/busybox) for the container image";
        }
        try {
            if (run(List.of("runc", "--version")).exit() != 0) {
                return "runc --version fails";
            }
        } catch (UncheckedIOException e) {
            return "needs runc (Debian package runc): " + e.getCause().getMessage();
        }
        return null;
    }

    /** Runs a container in the foreground until {@code script} ends, then deletes it. */
    Result run(String id, String script, Mount... mounts) throws IOException {
        Path bundle = bundle(id, script, mounts);
        try {
            return run(List.of("runc", "--root", state.toString(), "run", "--bundle", bundle.toString(), id));
        } finally {
            delete(id);
        }
    }

    /** Starts a long-running container ({@code runc run -d}); its output goes to files in its bundle. */
    void start(String id, String script, Mount... mounts) throws IOException {
        Path bundle = bundle(id, script, mounts);
        Process p = new ProcessBuilder("runc", "--root", state.toString(), "run", "-d", "--bundle", bundle.toString(),
                id).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(bundle.resolve("stdout").toFile()).redirectError(bundle.resolve("stderr").toFile())
                .start();
        if (waitFor(p, List.of("runc run -d", id)) != 0) {
            throw new AssertionError("runc run -d " + id + " failed: " + read(bundle.resolve("stderr")));
        }
    }

    /**
     * {@code runc exec ID sh -c SCRIPT}. Not in the VM stage: the guest's root is a chroot on its
     * initramfs, and an exec joining the container's mount namespace lands in that initramfs.
     */
    Result exec(String id, String script) {
        return run(List.of("runc", "--root", state.toString(), "exec", id, "sh", "-c", script));
    }

    /** The container's status: running, stopped, ... */
    String status(String id) {
        Result r = run(List.of("runc", "--root", state.toString(), "state", id));
        try {
            return r.exit() == 0 ? JSON.readTree(r.stdout()).get("status").asText() : "absent";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills and deletes the container ({@code runc delete --force}). */
    void delete(String id) {
        run(List.of("runc", "--root", state.toString(), "delete", "--force", id));
    }

    /** Deletes every container this instance made that is still there. */
    void deleteAll() {
        for (String id : run(List.of("runc", "--root", state.toString(), "list", "-q")).stdout().split("\n")) {
            if (!id.isBlank()) {
                delete(id.strip());
            }
        }
    }

    private Path bundle(String id, String script, Mount... mounts) throws IOException {
        Path bundle = Files.createDirectories(dir.resolve("bundles").resolve(id));
        ObjectNode config = spec.deepCopy();
        ((ObjectNode) config.get("root")).put("path", rootfs.toString()).put("readonly", true);
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        ArrayNode args = process.putArray("args");
        args.add("sh").add("-c").add(script);
        config.put("hostname", id);
        ArrayNode list = (ArrayNode) config.get("mounts");
        ObjectNode tmp = list.addObject();
        tmp.put("destination", "/tmp").put("type", "tmpfs").put("source", "tmpfs");
        tmp.putArray("options").add("nosuid").add("nodev");
        for (Mount m : mounts) {
            ObjectNode bind = list.addObject();
            bind.put("destination", m.destination()).put("type", "bind").put("source", m.source().toString());
            bind.putArray("options").add("rbind").add(m.readOnly() ? "ro" : "rw");
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(bundle.resolve("config.json").toFile(), config);
        return bundle;
    }

    static Result run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(
                    Path.of("/dev/null").toFile())).start();
            // read stderr on another thread so that neither pipe fills up
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            String out = readAll(p.getInputStream());
            return new Result(waitFor(p, command), out, err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int waitFor(Process p, List<String> command) {
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not end within 120 s");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static void check(Result r, String what) {
        if (r.exit() != 0) {
            throw new AssertionError(what + " failed: " + r);
        }
    }
}
