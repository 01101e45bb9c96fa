package dev.strata.common;

import java.io.IOException;

/** Work that must run to its end on a thread that may have been interrupted. */
public final class Interrupts {
    private Interrupts() {}

    /** I/O to run with the thread's interrupt cleared. */
    @FunctionalInterface
    public interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs {@code cleanup} with the thread's interrupt cleared, then sets it again for the caller. A
     * release that an interrupt cut short (a killed command, a refused write) would leave held what it
     * releases: a lock, dm-thin's metadata snapshot.
     */
    public static void runCleared(IoAction cleanup) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            cleanup.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
