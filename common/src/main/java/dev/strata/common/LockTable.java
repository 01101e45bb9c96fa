package dev.strata.common;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Non-blocking per-object locks. A second call on a busy object gets ABORTED at once (as the CSI spec
 * asks for "operation pending"), while calls on different objects run in parallel. The one exception
 * is a brief hold ({@link #acquireBriefly}): the driver's own bookkeeping for a moment, such as an
 * upload writing its outcome into the snapshot's record. A call that finds a key held that way waits
 * for it, up to {@link #BRIEF_WAIT_MILLIS}, instead of failing a CO's call for the driver's sake.
 */
public final class LockTable {
    static final long BRIEF_WAIT_MILLIS = 2_000;

    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final Set<String> brief = ConcurrentHashMap.newKeySet();

    /** Takes every key or none of them; the returned handle releases them. */
    public Held acquire(String... keys) {
        String[] sorted = Arrays.stream(keys).distinct().sorted().toArray(String[]::new);
        for (int i = 0; i < sorted.length; i++) {
            if (!take(sorted[i])) {
                for (int j = 0; j < i; j++) {
                    held.remove(sorted[j]);
                }
                throw CsiException.aborted("an operation on " + sorted[i] + " is already in progress");
            }
        }
        return new Held(sorted, false);
    }

    /**
     * One key, for a moment's internal work that never blocks on anything slow: calls that find it
     * held this way wait rather than answer ABORTED. ABORTED when the key is held otherwise.
     */
    public Held acquireBriefly(String key) {
        // Marked brief before it is held, and held no longer before it is unmarked: a waiter never
        // sees the key held by this without the mark.
        brief.add(key);
        if (!held.add(key)) {
            brief.remove(key);
            throw CsiException.aborted("an operation on " + key + " is already in progress");
        }
        return new Held(new String[] {key}, true);
    }

    /** Adds the key, waiting out a brief hold on it; false when it is held otherwise (or too long). */
    private boolean take(String key) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BRIEF_WAIT_MILLIS);
        while (!held.add(key)) {
            if (!brief.contains(key) || System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    public boolean isHeld(String key) {
        return held.contains(key);
    }

    /** Releases its keys when closed; use in try-with-resources. */
    public final class Held implements AutoCloseable {
        private final String[] keys;
        private final boolean briefly;

        private Held(String[] keys, boolean briefly) {
            this.keys = keys;
            this.briefly = briefly;
        }

        @Override
        public void close() {
            for (String key : keys) {
                held.remove(key);
                if (briefly) {
                    brief.remove(key);
                }
            }
        }
    }
}
