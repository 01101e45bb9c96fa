package dev.strata.node.engine.overlay;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.sys.LibC;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Freezes a volume's upper directory into a read-only layer while the volume stays mounted and in
 * use. The first snapshot copies the whole upper directory (reflinked where the filesystem can).
 * After that a snapshot copies only what changed since the previous one and stacks it on that
 * snapshot's layers, so its cost follows the change, not the volume:
 * <ul>
 * <li>what changed is what has a ctime at or after the previous freeze began (ctime cannot be set
 * from user space, and the previous freeze read the start time off the same filesystem's clock);
 * <li>what is gone is what the previous freeze listed and the upper directory no longer has; it
 * gets a whiteout in the new layer;
 * <li>an opaque directory that was already opaque keeps its old content visible only if the new
 * layer does not mark it opaque again, so that mark is dropped from the copy.
 * </ul>
 * The list of what the previous freeze saw is kept in the volume directory ({@code frozen}); it is
 * written after the snapshot exists, so a crash can only make the next snapshot copy more.
 */
final class LayerFreezer {
    static final String OPAQUE = "trusted.overlay.opaque";
    private static final String FROZEN = "frozen";
    private static final String MARKER = ".freeze-marker";

    private final CommandRunner runner;
    private final TreeCopy copy;

    LayerFreezer(CommandRunner runner) {
        this.runner = runner;
        this.copy = new TreeCopy(runner);
    }

    /** What one freeze saw: the snapshot it made, when it began, and every path of the upper directory. */
    record Frozen(String snapshotId, long startNanos, Map<String, Kind> entries) {}

    /** What a path of the upper directory was; whiteouts and opaque directories matter to overlayfs. */
    enum Kind {
        FILE('f'), DIRECTORY('d'), OPAQUE_DIRECTORY('o'), WHITEOUT('w');

        final char code;

        Kind(char code) {
            this.code = code;
        }

        static Kind of(char code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown entry kind " + code);
        }
    }

    /** A scan of the upper directory: every entry, and those changed since {@code since}. */
    private record Scan(long startNanos, Map<String, Kind> entries, List<String> changed) {}

    /**
     * Copies {@code upper} into {@code layers/layer}: only the change since {@code previous} when
     * given, the whole directory otherwise. Returns the scan to {@link #remember} once the snapshot
     * exists. Repeating it after a crash rebuilds the layer from scratch.
     */
    Frozen freeze(Path upper, Path layers, String layer, Optional<Frozen> previous, String snapshotId)
            throws IOException {
        Scan scan = scan(upper, previous.map(Frozen::startNanos).orElse(Long.MIN_VALUE));
        Path target = layers.resolve(layer);
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            Path partial = layers.resolve(TreeCopy.PARTIAL + layer);
            Trash.deleteTree(partial);
            if (previous.isEmpty()) {
                copy.copy(upper, partial);
            } else {
                writeDelta(upper, partial, scan, previous.get());
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return new Frozen(snapshotId, scan.startNanos(), scan.entries());
    }

    private void writeDelta(Path upper, Path partial, Scan scan, Frozen previous) throws IOException {
        Files.createDirectories(partial);
        List<String> gone = gone(previous.entries(), scan.entries());
        List<String> toCopy = new ArrayList<>(scan.changed());
        for (String path : gone) {
            Path parent = Path.of(path).getParent();
            if (parent != null) {
                toCopy.add(parent.toString()); // the whiteout's directory, with its attributes
            }
        }
        if (!toCopy.isEmpty()) {
            rsync(upper, partial, toCopy);
        }
        for (String path : gone) {
            LibC.whiteout(partial.resolve(path));
        }
        hideVanished(partial, scan, previous);
        // A directory that was opaque already is opaque in the previous layer, which holds the content
        // that did not change; marking it again here would hide that. rsync copies the attributes of
        // the directories on the way to a changed path too, so every one is checked.
        for (Map.Entry<String, Kind> e : previous.entries().entrySet()) {
            Path copied = partial.resolve(e.getKey());
            if (e.getValue() == Kind.OPAQUE_DIRECTORY && Files.isDirectory(copied, LinkOption.NOFOLLOW_LINKS)) {
                LibC.removeXattr(copied, OPAQUE);
            }
        }
    }

    private static final int RSYNC_VANISHED = 24;

    /**
     * A changed path the scan saw but rsync found gone was deleted while the volume was in use: where
     * an earlier layer has it, a whiteout hides it, so that the layer does not show the old version.
     * (Paths come in walk order, so a vanished directory is hidden before its content is looked at.)
     */
    private static void hideVanished(Path partial, Scan scan, Frozen previous) throws IOException {
        for (String path : scan.changed()) {
            Path copied = partial.resolve(path);
            if (previous.entries().containsKey(path) && !Files.exists(copied, LinkOption.NOFOLLOW_LINKS)
                    && Files.isDirectory(copied.getParent(), LinkOption.NOFOLLOW_LINKS)) {
                LibC.whiteout(copied);
            }
        }
    }

    /** rsync copies a list of paths (directories without their content) with owners, xattrs and devices. */
    private void rsync(Path from, Path to, List<String> paths) throws IOException {
        Path list = to.resolveSibling(to.getFileName() + ".list");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String p : paths) {
            bytes.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
        }
        Files.write(list, bytes.toByteArray());
        try {
            CommandRunner.Result r = runner.run("rsync", "-aXS", "--numeric-ids", "--from0", "--files-from=" + list,
                    from + "/", to + "/");
            // 24: "some files vanished before they could be transferred": deleted while the volume is
            // in use, they were not there at the instant the layer stands for (their whiteouts come
            // with the next layer).
            if (!r.ok() && r.exitCode() != RSYNC_VANISHED) {
                throw new IOException(new CommandRunner.CommandFailedException(r).getMessage());
            }
        } finally {
            Files.deleteIfExists(list);
        }
    }

    /** What the previous freeze listed and is gone now, topmost only (a gone directory hides its content). */
    private static List<String> gone(Map<String, Kind> before, Map<String, Kind> now) {
        List<String> gone = new ArrayList<>();
        for (String path : before.keySet()) {
            if (now.containsKey(path)) {
                continue;
            }
            Path parent = Path.of(path).getParent();
            if (parent == null || now.containsKey(parent.toString())) {
                gone.add(path);
            }
        }
        return gone;
    }

    /**
     * Lists the upper directory. The start time is the ctime of a marker touched on the same
     * filesystem first, so that anything written during the scan counts as changed next time.
     */
    private static Scan scan(Path upper, long sinceNanos) throws IOException {
        Path marker = upper.resolveSibling(MARKER);
        Files.write(marker, new byte[0]);
        long start = ctimeNanos(marker);
        Map<String, Kind> entries = new LinkedHashMap<>();
        List<String> changed = new ArrayList<>();
        // The volume may be in use: whatever goes while the walk runs was not there at the instant
        // the layer stands for, and is left out (the next freeze finds it gone).
        Files.walkFileTree(upper, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                try {
                    if (!dir.equals(upper)) {
                        record(dir, LibC.hasXattr(dir, OPAQUE) ? Kind.OPAQUE_DIRECTORY : Kind.DIRECTORY);
                    }
                    return FileVisitResult.CONTINUE;
                } catch (NoSuchFileException e) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                try {
                    record(file, attrs.isOther() && isWhiteout(file) ? Kind.WHITEOUT : Kind.FILE);
                } catch (NoSuchFileException e) {
                    // went meanwhile
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            private void record(Path path, Kind kind) throws IOException {
                String rel = upper.relativize(path).toString();
                entries.put(rel, kind);
                if (ctimeNanos(path) >= sinceNanos) {
                    changed.add(rel);
                }
            }
        });
        return new Scan(start, entries, changed);
    }

    private static boolean isWhiteout(Path file) throws IOException {
        return ((Long) Files.getAttribute(file, "unix:rdev", LinkOption.NOFOLLOW_LINKS)) == 0;
    }

    private static long ctimeNanos(Path path) throws IOException {
        FileTime t = (FileTime) Files.getAttribute(path, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
        return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Keeps what a freeze saw, once its snapshot exists, for the next freeze of the volume. */
    static void remember(Path volumeDir, Frozen frozen) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((frozen.snapshotId() + "\0" + frozen.startNanos() + "\0").getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, Kind> e : frozen.entries().entrySet()) {
            out.write(e.getValue().code);
            out.writeBytes(e.getKey().getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        Path tmp = volumeDir.resolve(FROZEN + ".tmp");
        Files.write(tmp, out.toByteArray());
        Files.move(tmp, volumeDir.resolve(FROZEN), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** What the volume's last freeze saw, if it kept it. */
    static Optional<Frozen> recall(Path volumeDir) throws IOException {
        Path file = volumeDir.resolve(FROZEN);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        String[] fields = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\0");
        Map<String, Kind> entries = new LinkedHashMap<>();
        for (int i = 2; i < fields.length; i++) {
            if (!fields[i].isEmpty()) {
                entries.put(fields[i].substring(1), Kind.of(fields[i].charAt(0)));
            }
        }
        return Optional.of(new Frozen(fields[0], Long.parseLong(fields[1]), entries));
    }
}
