package dev.strata.common;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status.Code;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class LockTableTest {
    private final LockTable locks = new LockTable();

    @Test
    void acquireAndRelease() {
        try (LockTable.Held held = locks.acquire("volume:a")) {
            assertTrue(locks.isHeld("volume:a"));
            assertFalse(locks.isHeld("volume:b"));
        }
        assertFalse(locks.isHeld("volume:a"));
        try (LockTable.Held again = locks.acquire("volume:a")) {
            assertTrue(locks.isHeld("volume:a"));
        }
    }

    @Test
    void heldKeyIsAborted() {
        try (LockTable.Held held = locks.acquire("volume:a")) {
            CsiException e = assertCsi(Code.ABORTED, () -> locks.acquire("volume:a"));
            assertTrue(e.getMessage().contains("volume:a"), e.getMessage());
            assertTrue(locks.isHeld("volume:a"), "a refused acquire must not release the holder's key");
        }
        assertFalse(locks.isHeld("volume:a"));
    }

    @Test
    void aBriefHoldIsWaitedOutNotAborted() throws Exception {
        LockTable.Held brief = locks.acquireBriefly("snapshot:s");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            pool.submit(() -> {
                Thread.sleep(100);
                brief.close();
                return null;
            });
            long start = System.nanoTime();
            try (LockTable.Held held = locks.acquire("volume:v", "snapshot:s")) {
                assertTrue(locks.isHeld("snapshot:s") && locks.isHeld("volume:v"));
            }
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(90), "it waited for the release");
        } finally {
            pool.shutdownNow();
        }
        try (LockTable.Held held = locks.acquire("snapshot:s")) {
            assertCsi(Code.ABORTED, () -> locks.acquireBriefly("snapshot:s"));
        }
    }

    @Test
    void aBriefHoldThatLastsIsAbortedAfterAWhile() {
        try (LockTable.Held brief = locks.acquireBriefly("snapshot:s")) {
            long start = System.nanoTime();
            assertCsi(Code.ABORTED, () -> locks.acquire("volume:v", "snapshot:s"));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(LockTable.BRIEF_WAIT_MILLIS));
            assertFalse(locks.isHeld("volume:v"), "the keys taken before it are given back");
        }
        assertFalse(locks.isHeld("snapshot:s"));
    }

    @Test
    void differentKeysDoNotConflict() {
        try (LockTable.Held a = locks.acquire("volume:a"); LockTable.Held b = locks.acquire("volume:b")) {
            assertTrue(locks.isHeld("volume:a") && locks.isHeld("volume:b"));
        }
    }

    @Test
    void multipleKeysAreAllOrNothing() {
        try (LockTable.Held held = locks.acquire("volume:m")) {
            // sorted order takes a and b before reaching m, then must give them back
            assertCsi(Code.ABORTED, () -> locks.acquire("volume:z", "volume:a", "volume:m", "volume:b"));
            assertFalse(locks.isHeld("volume:a"));
            assertFalse(locks.isHeld("volume:b"));
            assertFalse(locks.isHeld("volume:z"));
            assertTrue(locks.isHeld("volume:m"));
        }
        try (LockTable.Held all = locks.acquire("volume:z", "volume:a", "volume:m", "volume:b")) {
            for (String k : List.of("volume:a", "volume:b", "volume:m", "volume:z")) {
                assertTrue(locks.isHeld(k), k);
            }
        }
        for (String k : List.of("volume:a", "volume:b", "volume:m", "volume:z")) {
            assertFalse(locks.isHeld(k), k);
        }
    }

    @Test
    void duplicateKeysInOneCallAreTakenOnce() {
        try (LockTable.Held held = locks.acquire("volume:a", "volume:a")) {
            assertTrue(locks.isHeld("volume:a"));
        }
        assertFalse(locks.isHeld("volume:a"));
    }

    @Test
    void noKeysIsANoOp() {
        try (LockTable.Held held = locks.acquire()) {
            assertFalse(locks.isHeld(""));
        }
    }

    @Test
    @Timeout(120)
    void concurrentStressNeverHoldsAKeyTwice() throws Exception {
        String[] keys = {"k0", "k1", "k2", "k3", "k4", "k5"};
        ConcurrentHashMap<String, AtomicInteger> holders = new ConcurrentHashMap<>();
        for (String k : keys) {
            holders.put(k, new AtomicInteger());
        }
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger acquired = new AtomicInteger();
        AtomicInteger aborted = new AtomicInteger();
        int threads = 16;
        int rounds = 5_000;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < rounds; i++) {
                        int n = 1 + rnd.nextInt(3);
                        String[] wanted = new String[n];
                        for (int j = 0; j < n; j++) {
                            wanted[j] = keys[rnd.nextInt(keys.length)];
                        }
                        LockTable.Held held;
                        try {
                            held = locks.acquire(wanted);
                        } catch (CsiException e) {
                            if (e.code() != Code.ABORTED) {
                                violations.incrementAndGet();
                            }
                            aborted.incrementAndGet();
                            continue;
                        }
                        try (held) {
                            acquired.incrementAndGet();
                            List<String> distinct = java.util.Arrays.stream(wanted).distinct().toList();
                            for (String k : distinct) {
                                if (holders.get(k).incrementAndGet() != 1) {
                                    violations.incrementAndGet();
                                }
                            }
                            Thread.onSpinWait();
                            for (String k : distinct) {
                                holders.get(k).decrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        assertEquals(0, violations.get(), "a key was held by two threads at once");
        assertEquals(threads * rounds, acquired.get() + aborted.get());
        assertTrue(acquired.get() > 0);
        for (String k : keys) {
            assertFalse(locks.isHeld(k), k + " left held");
        }
    }
}
