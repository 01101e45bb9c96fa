package dev.strata.node.mount;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import dev.strata.node.sys.LibC;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.Test;

class BindOptionsTest {
    private static final String FIELD = "volume_capability.mount.mount_flags";

    private static long flags(String... entries) {
        return BindOptions.parse(FIELD, List.of(entries)).flags();
    }

    @Test
    void singleFlags() {
        assertEquals(LibC.MS_RDONLY, flags("ro"));
        assertEquals(LibC.MS_NOSUID, flags("nosuid"));
        assertEquals(LibC.MS_NODEV, flags("nodev"));
        assertEquals(LibC.MS_NOEXEC, flags("noexec"));
        assertEquals(LibC.MS_NOATIME, flags("noatime"));
        assertEquals(LibC.MS_RELATIME, flags("relatime"));
        assertEquals(LibC.MS_NODIRATIME, flags("nodiratime"));
        assertEquals(LibC.MS_STRICTATIME, flags("strictatime"));
    }

    @Test
    void combinationsAcrossEntriesAndCommas() {
        long expected = LibC.MS_RDONLY | LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC | LibC.MS_NOATIME;
        assertEquals(expected, flags("ro", "nosuid", "nodev", "noexec", "noatime"));
        assertEquals(expected, flags("ro,nosuid,nodev", "noexec,noatime"));
        assertEquals(expected, flags(" ro , nosuid,nodev,,noexec ", "noatime,ro"));
        assertEquals(LibC.MS_NOSUID | LibC.MS_RELATIME, flags("nosuid,relatime"));
    }

    @Test
    void defaultsAreAcceptedAndIgnored() {
        assertEquals(0, flags("rw"));
        assertEquals(0, flags("defaults"));
        assertEquals(0, flags("rw,defaults,suid,dev,exec,atime,diratime,bind"));
        assertEquals(0, flags(""));
        assertEquals(0, flags());
        assertEquals(LibC.MS_NOEXEC, flags("defaults,noexec"));
    }

    @Test
    void unknownOptionIsRefusedNamingTheFieldAndOption() {
        CsiException e = assertCsi(Code.INVALID_ARGUMENT, FIELD + ": ", () -> flags("discard"));
        assertTrue(e.getMessage().contains("\"discard\""), e.getMessage());
        assertTrue(e.getMessage().contains("noexec"), "lists what is supported: " + e.getMessage());
        assertCsi(Code.INVALID_ARGUMENT, FIELD, () -> flags("ro,discard"));
        assertCsi(Code.INVALID_ARGUMENT, FIELD, () -> flags("noatime", "size=1g"));
        assertCsi(Code.INVALID_ARGUMENT, FIELD, () -> flags("RO"));
    }

    @Test
    void readOnly() {
        assertFalse(BindOptions.NONE.readOnly());
        assertTrue(BindOptions.parse(FIELD, List.of("ro")).readOnly());
        BindOptions noexec = BindOptions.parse(FIELD, List.of("noexec"));
        assertSame(noexec, noexec.withReadOnly(false));
        BindOptions ro = noexec.withReadOnly(true);
        assertTrue(ro.readOnly());
        assertEquals(LibC.MS_NOEXEC | LibC.MS_RDONLY, ro.flags());
    }
}
