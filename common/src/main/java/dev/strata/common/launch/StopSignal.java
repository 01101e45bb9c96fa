package dev.strata.common.launch;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * Waits for SIGTERM or SIGINT, so that a server drains and closes in its main thread and the process
 * exits 0. (A shutdown hook would close as well, but the JVM then exits with 128 + the signal's number
 * whatever the hook does.)
 */
public final class StopSignal {
    private StopSignal() {}

    public static void await() throws InterruptedException {
        CountDownLatch stopRequested = new CountDownLatch(1);
        for (String signal : List.of("TERM", "INT")) {
            Signal.handle(new Signal(signal), s -> stopRequested.countDown());
        }
        stopRequested.await();
    }
}
