package dev.strata.e2e.cluster;

/**
 * Runs a scenario, then its clean-up, whatever the scenario did. A clean-up that fails after a
 * failed scenario is added to the scenario's failure, suppressed: thrown in its place, as from a
 * finally block, it hid the scenario's own error behind, say, a snapshot that could not be deleted
 * because the scenario had failed.
 */
final class CleanUp {
    /** A scenario or a clean-up: may throw whatever a test may. */
    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    private CleanUp() {}

    static void after(Step scenario, Step cleanUp) throws Exception {
        try {
            scenario.run();
        } catch (Throwable failure) {
            try {
                cleanUp.run();
            } catch (Throwable alsoFailed) {
                failure.addSuppressed(alsoFailed);
            }
            throw failure;
        }
        cleanUp.run();
    }
}
