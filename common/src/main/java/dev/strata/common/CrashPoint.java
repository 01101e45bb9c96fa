package dev.strata.common;

/**
 * Named points between the steps of an operation where a test can make the process die as if by
 * {@code kill -9}: start the driver with {@code -Dstrata.crash-at=NAME} and it halts, without running
 * shutdown hooks or finishing I/O, the first time it reaches that point. Restart tests use this to
 * prove that every interrupted operation is finished or undone. Unset, each point costs one compare.
 */
public final class CrashPoint {
    private static final String TARGET = System.getProperty("strata.crash-at", "");

    private CrashPoint() {}

    public static void reach(String name) {
        if (!TARGET.isEmpty() && TARGET.equals(name)) {
            System.err.println("strata: crash point " + name + " reached; halting");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
