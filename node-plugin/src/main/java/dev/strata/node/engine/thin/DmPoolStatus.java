package dev.strata.node.engine.thin;

import java.util.List;

/**
 * A thin-pool's status line (dmsetup status): "0 SECTORS thin-pool TXID USED_META/TOTAL_META
 * USED_DATA/TOTAL_DATA HELD_ROOT MODE DISCARD NO_SPACE_POLICY NEEDS_CHECK ...", or "Fail".
 */
record DmPoolStatus(long transactionId, long usedMetadataBlocks, long totalMetadataBlocks, long usedDataBlocks,
        long totalDataBlocks, boolean metadataSnapshotHeld, String mode, boolean needsCheck, boolean failed) {

    static DmPoolStatus parse(String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4 || !f[2].equals("thin-pool")) {
            throw new IllegalArgumentException("not a thin-pool status: " + line);
        }
        if (f[3].equals("Fail")) {
            return new DmPoolStatus(0, 0, 0, 0, 0, false, "Fail", false, true);
        }
        String[] meta = f[4].split("/");
        String[] data = f[5].split("/");
        List<String> rest = List.of(f).subList(8, f.length);
        return new DmPoolStatus(Long.parseLong(f[3]), Long.parseLong(meta[0]), Long.parseLong(meta[1]),
                Long.parseLong(data[0]), Long.parseLong(data[1]), !f[6].equals("-"), f[7], rest.contains("needs_check"),
                false);
    }

    /** rw, ro, or out_of_data_space; anything but rw stops writes. */
    boolean writable() {
        return !failed && mode.equals("rw");
    }

    String problem() {
        if (failed) {
            return "the thin pool has failed";
        }
        if (needsCheck) {
            return "the thin pool's metadata needs a check (thin_check)";
        }
        if (mode.equals("out_of_data_space")) {
            return "the thin pool is out of data space";
        }
        if (!mode.equals("rw")) {
            return "the thin pool is " + mode;
        }
        return null;
    }
}
