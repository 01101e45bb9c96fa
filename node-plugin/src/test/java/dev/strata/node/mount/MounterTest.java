package dev.strata.node.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.node.sys.Posix;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MounterTest {
    private static final String FIELD = "mount_flags";

    @TempDir
    Path tmp;

    private final Mounter mounter = new Mounter();
    private Path source;
    private Path target;

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(Posix.isRoot(), "needs root: mount(2)");
        Path real = tmp.toRealPath();
        source = Files.createDirectories(real.resolve("source"));
        target = Files.createDirectories(real.resolve("target"));
        Files.writeString(source.resolve("hello"), "world");
    }

    @Test
    void bindShowsTheSource() throws IOException {
        try {
            mounter.bind(source, target, BindOptions.NONE);
            MountTable.Entry e = MountTable.read().at(target).orElseThrow();
            assertFalse(e.readOnly());
            assertTrue(e.root().endsWith("/source"), e.root());
            assertEquals("world", Files.readString(target.resolve("hello")));
            Files.writeString(target.resolve("new"), "x");
            assertEquals("x", Files.readString(source.resolve("new")));
        } finally {
            mounter.unmount(target);
        }
        assertFalse(MountTable.read().isMountPoint(target));
        assertFalse(Files.exists(target.resolve("hello")));
    }

    @Test
    void readOnlyBindRefusesWrites() throws IOException {
        try {
            mounter.bind(source, target, BindOptions.parse(FIELD, List.of("ro")));
            MountTable.Entry e = MountTable.read().at(target).orElseThrow();
            assertTrue(e.readOnly(), e.options());
            assertEquals("world", Files.readString(target.resolve("hello")));
            FileSystemException ex = assertThrows(FileSystemException.class,
                    () -> Files.writeString(target.resolve("new"), "x"));
            assertTrue(ex.getMessage().contains("Read-only file system"), ex.getMessage());
            assertThrows(IOException.class, () -> Files.delete(target.resolve("hello")));
            // the source is still writable: only the bind is read-only
            Files.writeString(source.resolve("new"), "x");
            assertEquals("x", Files.readString(target.resolve("new")));
        } finally {
            mounter.unmount(target);
        }
    }

    @Test
    void flagsAppearInTheMountTable() throws IOException {
        try {
            mounter.bind(source, target, BindOptions.parse(FIELD, List.of("noexec,nosuid", "nodev")));
            MountTable.Entry e = MountTable.read().at(target).orElseThrow();
            List<String> options = List.of(e.options().split(","));
            assertTrue(options.contains("noexec"), e.options());
            assertTrue(options.contains("nosuid"), e.options());
            assertTrue(options.contains("nodev"), e.options());
            assertTrue(options.contains("rw"), e.options());
        } finally {
            mounter.unmount(target);
        }
    }

    @Test
    void unmountIsIdempotent() throws IOException {
        mounter.bind(source, target, BindOptions.NONE);
        mounter.unmount(target);
        assertFalse(MountTable.read().isMountPoint(target));
        mounter.unmount(target); // no longer a mount point
        Path plain = Files.createDirectories(tmp.toRealPath().resolve("never-mounted"));
        mounter.unmount(plain);
        mounter.unmount(tmp.toRealPath().resolve("does/not/exist"));
        assertTrue(Files.isDirectory(plain));
    }

    @Test
    void stackedMountsUnmountOneAtATime() throws IOException {
        Path second = Files.createDirectories(tmp.toRealPath().resolve("second"));
        Files.writeString(second.resolve("marker"), "2");
        try {
            mounter.bind(source, target, BindOptions.NONE);
            mounter.bind(second, target, BindOptions.parse(FIELD, List.of("ro")));
            assertTrue(MountTable.read().at(target).orElseThrow().readOnly(), "the topmost mount is reported");
            assertEquals("2", Files.readString(target.resolve("marker")));
            mounter.unmount(target);
            assertTrue(MountTable.read().isMountPoint(target));
            assertFalse(MountTable.read().at(target).orElseThrow().readOnly());
            assertEquals("world", Files.readString(target.resolve("hello")));
        } finally {
            mounter.unmount(target);
            mounter.unmount(target);
        }
        assertFalse(MountTable.read().isMountPoint(target));
    }

    @Test
    void bindOfAMissingSourceFailsWithErrno() {
        IOException e = assertThrows(IOException.class,
                () -> mounter.bind(tmp.resolve("missing"), target, BindOptions.NONE));
        assertTrue(e.getMessage().contains("errno 2"), e.getMessage());
        assertFalse(MountTable.read().isMountPoint(target));
    }

    @Test
    void unmountOfABusyMountFails() throws IOException {
        Path inner = Files.createDirectories(source.resolve("inner"));
        Path innerSource = Files.createDirectories(tmp.toRealPath().resolve("inner-source"));
        try {
            mounter.bind(source, target, BindOptions.NONE);
            // a mount inside target makes target busy
            mounter.bind(innerSource, target.resolve("inner"), BindOptions.NONE);
            IOException e = assertThrows(IOException.class, () -> mounter.unmount(target));
            assertTrue(e.getMessage().contains("umount"), e.getMessage());
            assertTrue(MountTable.read().isMountPoint(target));
        } finally {
            mounter.unmount(target.resolve("inner"));
            mounter.unmount(target);
            mounter.unmount(inner);
        }
        assertFalse(MountTable.read().isMountPoint(target));
    }

    /**
     * A mount a forked process holds for a moment (as any child of the JVM does until it execs) is
     * unmounted once that process lets go, not refused with EBUSY.
     */
    @Test
    void aMountBusyForAMomentIsUnmountedOnceItIsFree() throws Exception {
        mounter.bind(source, target, BindOptions.NONE);
        Process holder = new ProcessBuilder("sleep", "0.3").directory(target.toFile()).start();
        try {
            mounter.unmount(target); // waits for the holder to go
            assertFalse(MountTable.read().isMountPoint(target));
            // Not holder.isAlive(): Java's reaper thread may not have collected the exit yet. The
            // kernel's view is what counts: an exited process (gone, or a zombie) holds no directory.
            assertTrue(hasExited(holder.pid()), "unmounted while the holder still had its working directory there");
        } finally {
            holder.waitFor();
            mounter.unmount(target);
        }
    }

    /** Whether the process is gone or a zombie, as /proc/PID/stat's state field tells. */
    private static boolean hasExited(long pid) throws IOException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        String line;
        try {
            line = Files.readString(stat);
        } catch (java.nio.file.NoSuchFileException e) {
            return true;
        }
        // pid (comm) STATE ...: comm may hold spaces or parentheses, so read after the last ')'
        char state = line.substring(line.lastIndexOf(')') + 2).charAt(0);
        return state == 'Z' || state == 'X';
    }

    /** A mount that stays in use still fails, after the short wait. */
    @Test
    void aMountThatStaysBusyStillFails() throws Exception {
        mounter.bind(source, target, BindOptions.NONE);
        Process holder = new ProcessBuilder("sleep", "30").directory(target.toFile()).start();
        try {
            IOException e = assertThrows(IOException.class, () -> mounter.unmount(target));
            assertTrue(e.getMessage().contains("errno 16"), e.getMessage());
            assertTrue(MountTable.read().isMountPoint(target));
        } finally {
            holder.destroyForcibly().waitFor();
            mounter.unmount(target);
        }
        assertFalse(MountTable.read().isMountPoint(target));
    }
}
