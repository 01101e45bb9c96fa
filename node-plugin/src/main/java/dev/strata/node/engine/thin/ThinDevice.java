package dev.strata.node.engine.thin;

/**
 * One thin device of the pool as the engine keeps it: its ID in the pool, its size in sectors, its
 * filesystem ("" for a raw block volume), and whether it is complete. A device is written down as
 * not {@code ready} before the pool is asked to make it, so that a crash between the two leaves a
 * note of what to undo, never a device in the pool that nothing knows of.
 */
record ThinDevice(long thinId, long sectors, String fsType, boolean ready) {
    ThinDevice asReady() {
        return new ThinDevice(thinId, sectors, fsType, true);
    }

    ThinDevice withSectors(long newSectors) {
        return new ThinDevice(thinId, newSectors, fsType, ready);
    }

    boolean block() {
        return fsType.isEmpty();
    }
}
