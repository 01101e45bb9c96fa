package dev.strata.e2e;

/** kill -9 of the node plugin of a cluster while containers use its volumes (see {@link DriverKillTest}). */
class ClusterNodeKillTest extends DriverKillTest {
    @Override
    DriverProcess newDriver() {
        return DriverProcess.cluster(driverArgs());
    }
}
