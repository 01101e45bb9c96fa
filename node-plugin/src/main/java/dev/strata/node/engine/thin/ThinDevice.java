package dev.strata.node.engine.thin;

/**
 * One thin device of the pool as the engine keeps it: its ID in the pool, its size in sectors, its
 * filesystem ("" for a raw block volume), and whether it is complete. A device is written down as
 * not {@code ready} before the pool is asked to make it, so that a crash between the two leaves a
 * note of what to undo, never a device in the pool that nothing knows of.
 *
 * <p>An {@code encrypted} device holds a LUKS2 header and then the data. Its key only comes with
 * staging, so a new one stays {@code unformatted} (no header, no filesystem) until it is first staged,
 * and a growth while it is closed leaves its filesystem {@code behind}, to be grown when it is next
 * opened. Notes written before encryption existed read as unencrypted.
 */
record ThinDevice(long thinId, long sectors, String fsType, boolean ready, boolean encrypted, boolean unformatted,
        boolean behind) {
    static ThinDevice plain(long thinId, long sectors, String fsType) {
        return new ThinDevice(thinId, sectors, fsType, false, false, false, false);
    }

    ThinDevice asReady() {
        return new ThinDevice(thinId, sectors, fsType, true, encrypted, unformatted, behind);
    }

    ThinDevice withSectors(long newSectors) {
        return new ThinDevice(thinId, newSectors, fsType, ready, encrypted, unformatted, behind);
    }

    /** The same device encrypted: unformatted when new, {@code behind} when filled from a smaller one. */
    ThinDevice asEncrypted(boolean isNew, boolean grown) {
        return new ThinDevice(thinId, sectors, fsType, ready, true, isNew, grown && !block());
    }

    ThinDevice asFormatted() {
        return new ThinDevice(thinId, sectors, fsType, ready, encrypted, false, false);
    }

    ThinDevice withFilesystemBehind(boolean isBehind) {
        return new ThinDevice(thinId, sectors, fsType, ready, encrypted, unformatted, isBehind && !block());
    }

    boolean block() {
        return fsType.isEmpty();
    }
}
