package dev.strata.node.engine.overlay;

import dev.strata.common.exec.CommandRunner;
import dev.strata.common.io.AtomicFile;
import dev.strata.node.engine.LiveCopy;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import dev.strata.node.sys.FileHandle;
import dev.strata.node.sys.Sandbox;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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
    /** rsync runs again after a pod's swap aborted it; a pod that swaps without pause fails its own snapshot. */
    private static final int RSYNC_ATTEMPTS = 5;

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
            try {
                if (previous.isEmpty()) {
                    copy.copy(upper, partial);
                } else {
                    writeDelta(upper, partial, scan, previous.get());
                    FileHandle.syncFilesystem(partial);
                }
                AtomicFile.rename(partial, target);
            } catch (IOException | RuntimeException e) {
                // What the copy took from the tenant goes now, not at the next start.
                try {
                    Trash.deleteTree(partial);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
        return new Frozen(snapshotId, scan.startNanos(), scan.entries());
    }

    /**
     * Writes the change into {@code partial}. The paths come from the tenant's tree, and what rsync
     * copied may hold the tenant's links: every whiteout and xattr change goes through a handle
     * opened below {@code partial} without following a link, and a path under a link is skipped (a
     * non-directory in the layer hides everything below its name anyway).
     */
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
        try (FileHandle layer = FileHandle.open(partial)) {
            for (String path : gone) {
                whiteout(layer, path, false);
            }
            // A changed path the scan saw but rsync found gone was deleted while the volume was in
            // use: where an earlier layer has it, a whiteout hides the old version. (Paths come in
            // walk order, so a vanished directory is hidden before its content is looked at.)
            for (String path : scan.changed()) {
                if (previous.entries().containsKey(path)) {
                    whiteout(layer, path, true);
                }
            }
            // A directory that was opaque already is opaque in the previous layer, which holds the
            // content that did not change; marking it again here would hide that. rsync copies the
            // attributes of the directories on the way to a changed path too, so every one is checked.
            for (Map.Entry<String, Kind> e : previous.entries().entrySet()) {
                if (e.getValue() == Kind.OPAQUE_DIRECTORY) {
                    dropOpaqueMark(layer, e.getKey());
                }
            }
        }
    }

    /** A whiteout at {@code path} in the layer (only where nothing is, when {@code ifAbsent}). */
    private static void whiteout(FileHandle layer, String path, boolean ifAbsent) throws IOException {
        Path relative = Path.of(path);
        String parent = relative.getParent() == null ? "" : relative.getParent().toString();
        try (FileHandle dir = layer.beneath(parent, 0)) {
            if (!dir.stat().isDirectory()) {
                return;
            }
            String name = relative.getFileName().toString();
            if (ifAbsent && exists(dir, name)) {
                return;
            }
            dir.whiteout(name);
        } catch (NoSuchFileException | FileHandle.SymbolicLinkException | java.nio.file.NotDirectoryException e) {
            // under a link or a file the tenant put there: nothing below its name shows anyway
        }
    }

    private static boolean exists(FileHandle dir, String name) throws IOException {
        try (FileHandle entry = dir.child(name)) {
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    private static void dropOpaqueMark(FileHandle layer, String path) throws IOException {
        try (FileHandle dir = layer.beneath(path, FileHandle.READ_DIRECTORY)) {
            dir.removeXattr(OPAQUE);
        } catch (NoSuchFileException | FileHandle.SymbolicLinkException | java.nio.file.NotDirectoryException e) {
            // not a directory in this layer: no mark to drop
        }
    }

    /**
     * rsync copies a list of paths (directories without their content) with owners, xattrs and
     * devices, confined to the upper directory and the layer ({@link Sandbox}), from the start
     * again when a swap aborted it ({@link LiveCopy#abortedByASwap}).
     */
    private void rsync(Path from, Path to, List<String> paths) throws IOException {
        Path list = to.resolveSibling(to.getFileName() + ".list");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String p : paths) {
            bytes.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
        }
        Files.write(list, bytes.toByteArray());
        List<String> command = Sandbox.command(List.of(Sandbox.Bind.readOnly(from, Sandbox.SOURCE),
                Sandbox.Bind.writable(to, Sandbox.TARGET), Sandbox.Bind.readOnly(list, "/list")),
                List.of("rsync", "-aXS", "--numeric-ids", "--from0", "--files-from=/list", "--",
                        Sandbox.SOURCE + "/", Sandbox.TARGET + "/"));
        try {
            for (int attempt = 1; ; attempt++) {
                CommandRunner.Result r = runner.run(command);
                if (attempt == RSYNC_ATTEMPTS || !LiveCopy.abortedByASwap(r)) {
                    LiveCopy.check(r);
                    return;
                }
                // The pod swapped a directory and a link under rsync's feet; start the copy afresh.
                Trash.deleteTree(to);
                Files.createDirectories(to);
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
     *
     * <p>The pod may change the tree while it is read, and may swap a directory for a link to the
     * host's: each directory is opened below the upper directory without following a link
     * ({@link FileHandle#beneath}), each entry looked at through its handle, so the scan never
     * leaves the volume. Whatever goes while the walk runs was not there at the instant the layer
     * stands for, and is left out (the next freeze finds it gone). Parents come before their content.
     */
    private static Scan scan(Path upper, long sinceNanos) throws IOException {
        Path marker = upper.resolveSibling(MARKER);
        Files.write(marker, new byte[0]);
        long start = ctimeNanos(marker);
        Map<String, Kind> entries = new LinkedHashMap<>();
        List<String> changed = new ArrayList<>();
        Deque<String> directories = new ArrayDeque<>(List.of(""));
        try (FileHandle root = FileHandle.open(upper)) {
            while (!directories.isEmpty()) {
                String dir = directories.pop();
                List<String> below = new ArrayList<>();
                try (FileHandle handle = root.beneath(dir, 0)) {
                    List<String> names = handle.list();
                    names.sort(null);
                    for (String name : names) {
                        String path = dir.isEmpty() ? name : dir + "/" + name;
                        Seen seen = kindOf(handle, name, sinceNanos);
                        if (seen != null) {
                            entries.put(path, seen.kind());
                            if (seen.changed()) {
                                changed.add(path);
                            }
                            if (seen.directory()) {
                                below.add(path);
                            }
                        }
                    }
                } catch (NoSuchFileException | FileHandle.SymbolicLinkException | java.nio.file.NotDirectoryException e) {
                    // the directory went, or became something else, since its parent was read
                }
                for (int i = below.size() - 1; i >= 0; i--) {
                    directories.push(below.get(i));
                }
            }
        }
        return new Scan(start, entries, changed);
    }

    /** What the entry {@code name} of {@code dir} is now (null: gone meanwhile), never following it. */
    private static Seen kindOf(FileHandle dir, String name, long sinceNanos) throws IOException {
        try (FileHandle h = dir.child(name)) {
            FileHandle.Stat st = h.stat();
            Kind kind;
            if (st.isDirectory()) {
                try (FileHandle readable = h.readable()) {
                    kind = readable.hasXattr(OPAQUE) ? Kind.OPAQUE_DIRECTORY : Kind.DIRECTORY;
                }
            } else {
                kind = st.isCharacterDevice() && !st.deviceNumber() ? Kind.WHITEOUT : Kind.FILE;
            }
            return new Seen(kind, st.ctimeNanos() >= sinceNanos);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** One entry as the scan saw it. */
    private record Seen(Kind kind, boolean changed) {
        boolean directory() {
            return kind == Kind.DIRECTORY || kind == Kind.OPAQUE_DIRECTORY;
        }
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
        AtomicFile.write(volumeDir.resolve(FROZEN), out.toByteArray());    }

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
