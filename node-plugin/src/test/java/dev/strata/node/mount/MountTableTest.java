package dev.strata.node.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountTableTest {
    private static final List<String> SAMPLE = List.of(
            "22 27 0:21 / /proc rw,relatime - proc proc rw",
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
            // the example from proc(5): one optional field before the separator
            "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
            // a bind mount of a subdirectory, with escaped spaces and two optional fields
            "140 27 254:0 /data/vol\\040one /var/lib/kubelet/pods/p\\040q/vol\\040one ro,nosuid,nodev,relatime "
                    + "shared:1 master:2 - ext4 /dev/vda rw,discard",
            // no optional fields; a tab and a backslash escaped in the mount point
            "141 27 0:50 / /mnt/a\\011b\\134c rw - tmpfs tmp\\040fs rw,size=1024k",
            "garbage line",
            "");

    @Test
    void parsesFields() {
        MountTable t = MountTable.parse(SAMPLE);
        assertEquals(5, t.entries().size(), "malformed lines are skipped");
        MountTable.Entry e = t.at(Path.of("/mnt2")).orElseThrow();
        assertEquals(36, e.id());
        assertEquals(35, e.parentId());
        assertEquals("98:0", e.majorMinor());
        assertEquals("/mnt1", e.root());
        assertEquals("rw,noatime", e.options());
        assertEquals("ext3", e.fsType());
        assertEquals("/dev/root", e.source());
        assertEquals("rw,errors=continue", e.superOptions());
        assertFalse(e.readOnly());
    }

    @Test
    void unescapesOctalSequences() {
        MountTable t = MountTable.parse(SAMPLE);
        Path pod = Path.of("/var/lib/kubelet/pods/p q/vol one");
        MountTable.Entry bind = t.at(pod).orElseThrow();
        assertEquals("/data/vol one", bind.root());
        assertTrue(bind.readOnly());
        assertEquals("ext4", bind.fsType());
        assertEquals("rw,discard", bind.superOptions());

        MountTable.Entry tmp = t.at(Path.of("/mnt/a\tb\\c")).orElseThrow();
        assertEquals("tmp fs", tmp.source());
        assertEquals("tmpfs", tmp.fsType());
        assertEquals("/mnt/a\tb\\c", MountTable.unescape("/mnt/a\\011b\\134c"));
        assertEquals("no\\escape\\9", MountTable.unescape("no\\escape\\9"));
        assertEquals("trailing\\04", MountTable.unescape("trailing\\04"));
    }

    @Test
    void isMountPointIsExact() {
        MountTable t = MountTable.parse(SAMPLE);
        assertTrue(t.isMountPoint(Path.of("/")));
        assertTrue(t.isMountPoint(Path.of("/proc")));
        assertFalse(t.isMountPoint(Path.of("/proc/self")));
        assertFalse(t.isMountPoint(Path.of("/mnt1")), "the root of a bind is not its mount point");
        assertFalse(t.isMountPoint(Path.of("/var/lib/kubelet/pods/p q")));
    }

    @Test
    void atReturnsTheTopmostMount() {
        MountTable t = MountTable.parse(List.of(
                "50 27 254:0 /first /stack rw - ext4 /dev/vda rw",
                "51 50 254:0 /second /stack ro - ext4 /dev/vda rw"));
        MountTable.Entry top = t.at(Path.of("/stack")).orElseThrow();
        assertEquals(51, top.id());
        assertEquals("/second", top.root());
        assertTrue(top.readOnly());
        assertTrue(t.at(Path.of("/elsewhere")).isEmpty());
    }

    @Test
    void underListsDeepestFirst() {
        MountTable t = MountTable.parse(List.of(
                MountTables.bindLine(60, "/v", "/data/vols/a"),
                MountTables.bindLine(61, "/v", "/data/vols/a/b/c"),
                MountTables.bindLine(62, "/v", "/data/vols/ab"),
                MountTables.bindLine(63, "/v", "/data/vols/a/b"),
                MountTables.bindLine(64, "/v", "/data/other"),
                MountTables.bindLine(65, "/v", "/data/vols/a/b/c/d/e")));
        assertEquals(List.of(Path.of("/data/vols/a/b/c/d/e"), Path.of("/data/vols/a/b/c"), Path.of("/data/vols/a/b"),
                Path.of("/data/vols/a")), t.under(Path.of("/data/vols/a")));
        assertEquals(List.of(), t.under(Path.of("/data/vols/a/x")));
        assertEquals(List.of(Path.of("/data/vols/ab")), t.under(Path.of("/data/vols/ab")));
        assertEquals(5, t.under(Path.of("/data/vols")).size());
    }

    @Test
    void readsThisMachine() {
        MountTable t = MountTable.read();
        assertFalse(t.entries().isEmpty());
        assertTrue(t.isMountPoint(Path.of("/")));
        assertTrue(t.isMountPoint(Path.of("/proc")));
        assertEquals(t.entries().size(), t.under(Path.of("/")).size());
        assertEquals(Path.of("/"), t.under(Path.of("/")).get(t.entries().size() - 1));
    }
}
