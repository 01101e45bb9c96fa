package dev.strata.node.sys;

import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** jnr-posix, loaded once: ownership and permission calls that java.nio cannot make (setuid bits, lchown). */
public final class Posix {
    private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

    private Posix() {}

    public static POSIX get() {
        return POSIX;
    }

    public static boolean isRoot() {
        return POSIX.geteuid() == 0;
    }
}
