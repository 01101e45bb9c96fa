package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** dm-thin's pool status lines, as the kernel prints them (Documentation/admin-guide/device-mapper/thin-provisioning.rst). */
class DmPoolStatusTest {
    @Test
    void aHealthyPool() {
        DmPoolStatus s = DmPoolStatus.parse("0 4194304 thin-pool 3 167/4096 1280/32768 - rw discard_passdown "
                + "error_if_no_space - 1024");
        assertEquals(3, s.transactionId());
        assertEquals(1280, s.usedDataBlocks());
        assertEquals(32768, s.totalDataBlocks());
        assertEquals(167, s.usedMetadataBlocks());
        assertTrue(s.writable());
        assertFalse(s.metadataSnapshotHeld());
        assertNull(s.problem());
        DmPoolStatus held = DmPoolStatus.parse("0 4194304 thin-pool 3 167/4096 1280/32768 42 rw discard_passdown "
                + "error_if_no_space - 1024");
        assertTrue(held.metadataSnapshotHeld(), "a reserved metadata snapshot's root block, 42");
        assertNull(held.problem());
    }

    @Test
    void aFullPoolAReadOnlyPoolAndOneThatNeedsACheck() {
        DmPoolStatus full = DmPoolStatus.parse("0 327680 thin-pool 2 20/4096 2560/2560 - out_of_data_space "
                + "discard_passdown error_if_no_space - 1024");
        assertFalse(full.writable());
        assertEquals("the thin pool is out of data space", full.problem());
        DmPoolStatus ro = DmPoolStatus.parse("0 327680 thin-pool 2 20/4096 10/2560 - ro discard_passdown "
                + "error_if_no_space needs_check 1024");
        assertFalse(ro.writable());
        assertEquals("the thin pool's metadata needs a check (thin_check)", ro.problem());
        DmPoolStatus failed = DmPoolStatus.parse("0 327680 thin-pool Fail");
        assertTrue(failed.failed());
        assertEquals("the thin pool has failed", failed.problem());
    }

    @Test
    void anythingElseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DmPoolStatus.parse("0 8192 thin 1024 8191"));
    }
}
