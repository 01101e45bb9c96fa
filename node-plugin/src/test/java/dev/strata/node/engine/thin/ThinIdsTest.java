package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThinIdsTest {
    @TempDir
    Path tmp;

    @Test
    void idsStartAtOneAndTheCounterOnDiskIsAlwaysTheNextOne() throws Exception {
        ThinIds ids = new ThinIds(tmp.resolve("next-thin-id"));
        assertEquals(1, ids.next());
        assertEquals(2, ids.next());
        assertEquals("3", Files.readString(tmp.resolve("next-thin-id")));
        assertEquals(3, new ThinIds(tmp.resolve("next-thin-id")).next(), "a restarted engine goes on counting");
    }

    /** A volume's create and another volume's snapshot run at once (each under its own object's lock). */
    @Test
    void volumesAndSnapshotsMadeAtOnceNeverShareAnId() throws Exception {
        ThinIds ids = new ThinIds(tmp.resolve("next-thin-id"));
        int each = 300;
        Set<Long> handedOut = new ConcurrentSkipListSet<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService creates = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(creates.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        handedOut.add(ids.next());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            creates.shutdownNow();
        }
        Set<Long> expected = new TreeSet<>();
        for (long id = 1; id <= 4L * each; id++) {
            expected.add(id);
        }
        assertEquals(expected, new TreeSet<>(handedOut), "every ID handed out once, none skipped");
    }
}
