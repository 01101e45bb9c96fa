package dev.strata.backup;

import dev.strata.common.Interrupts;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a prune from deleting the chunks of a backup that is still running. Each side writes its own
 * lock first and only then looks for the other's, so of two that start together at least one sees
 * the other: a backup then fails BUSY, a prune skips. A lock is stale (its holder died) when it is
 * older than an hour, a running backup rewriting its lock well before that, or at once when its holder
 * was a process on this host that no longer runs (restic's rule: a driver killed mid-upload must not
 * hold every prune of the target back for an hour after it restarts), or this very process, which
 * no longer holds it (its release failed). The lock records when its
 * holder started, so a holder's pid now running another process counts as gone too: a restarted
 * container's driver often runs with its predecessor's pid.
 *
 * <p>Packs move ({@link Repacker}), and three more kinds of lock keep that safe. A restore or a
 * verify holds a reader's lock while it reads chunks: no pack is then deleted or moved, since the
 * reader may hold a manifest from before a repack. A repack holds its own: no other prune deletes
 * a pack then (the new ones are named by no manifest yet), and no backup's removal deletes a
 * manifest, which the repack's rewrite could bring back.
 */
final class Locks {
    private static final Logger LOG = LoggerFactory.getLogger(Locks.class);
    static final String PREFIX = "locks/";
    static final String BACKUP = "backup-";
    static final String PRUNE = "prune-";
    static final String READER = "reader-";
    static final String REPACK = "repack-";
    static final String REMOVE = "remove-";
    static final Duration STALE_AFTER = Duration.ofHours(1);
    private static final Duration REFRESH_EVERY = Duration.ofMinutes(10);
    /** pid@host, as the JVM names itself: the holder a lock records. */
    private static final String HOLDER = ManagementFactory.getRuntimeMXBean().getName();
    private static final String THIS_HOST = HOLDER.substring(HOLDER.indexOf('@') + 1);
    /** When this process started: a restarted container's driver often has its predecessor's pid (1). */
    static final Instant HOLDER_STARTED = ProcessHandle.current().info().startInstant().orElse(null);
    /**
     * The keys of the locks this process holds now (keys are unique: a random UUID each). A lock file
     * that names this process as its holder but is not among them was released, or its release
     * failed (the server down when a failed upload let go of it): stale at once, not after an hour.
     */
    private static final Set<String> HELD = ConcurrentHashMap.newKeySet();
    /** Refreshes readers' locks, which have no loop of their own to do it in; its one thread starts with the first. */
    private static final ScheduledExecutorService REFRESHER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "backup-reader-lock");
        thread.setDaemon(true);
        return thread;
    });

    /** A lock held until closed. */
    interface Held extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    /** What a lock file says, for whoever finds one left behind. */
    record LockInfo(String kind, String holder, Instant createdAt, Instant holderStarted) {}

    private final BackupTarget target;

    Locks(BackupTarget target) {
        this.target = target;
    }

    Lock acquireBackup() throws IOException {
        return acquire(BACKUP, PRUNE).orElseThrow(() -> new BackupException(BackupException.Kind.BUSY,
                "a prune of " + target.url() + " is running; retry"));
    }

    /** Empty when a backup is running: the prune must not delete anything now. */
    Optional<Lock> tryAcquirePrune() throws IOException {
        return acquire(PRUNE, BACKUP);
    }

    /**
     * A reader's lock, refreshed in the background until closed. Where the target refuses it
     * (credentials that may only read), the reader goes on without one: a prune that repacks
     * meanwhile may then make it fail MISSING_CHUNK, and a retry reads the new manifest.
     */
    Held holdForReading() {
        Lock lock;
        try {
            lock = write(READER);
        } catch (IOException e) {
            LOG.warn("reading {} without a reader's lock: {}", target.url(), e.getMessage());
            return () -> { };
        }
        ScheduledFuture<?> refreshing = REFRESHER.scheduleAtFixedRate(() -> refreshQuietly(lock),
                REFRESH_EVERY.toSeconds(), REFRESH_EVERY.toSeconds(), TimeUnit.SECONDS);
        return () -> {
            refreshing.cancel(false);
            synchronized (lock) { // a refresh running now must not write the lock again after this
                lock.close();
            }
        };
    }

    private static void refreshQuietly(Lock lock) {
        synchronized (lock) {
            try {
                if (!lock.closed) {
                    lock.refresh();
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("refreshing the reader's lock {} failed: {}", lock.key(), e.getMessage());
            }
        }
    }

    /**
     * Held while a repack moves chunks and rewrites the manifests that name them: empty while
     * another repack runs, or a backup's removal (which deletes a manifest a rewrite could bring back).
     */
    Optional<Lock> tryAcquireRepack() throws IOException {
        return acquire(REPACK, REMOVE, REPACK);
    }

    /** Held while a backup's manifest is deleted; BUSY while a repack runs. */
    Lock acquireRemove() throws IOException {
        return acquire(REMOVE, REPACK).orElseThrow(() -> new BackupException(BackupException.Kind.BUSY,
                "a repack of " + target.url() + " is moving chunks; retry"));
    }

    /** Whether a pack may not go now: a reader may need one no manifest names any more, a repack one it just wrote. */
    boolean packsInUse() throws IOException {
        return anyFresh(READER, null) || anyFresh(REPACK, null);
    }

    /** Whether a restore or a verify is reading. */
    boolean anyReader() throws IOException {
        return anyFresh(READER, null);
    }

    /**
     * Writes a lock of {@code kind}, and gives it up again (empty) while a fresh lock of one of
     * {@code excludedBy} (but itself) is there.
     */
    private Optional<Lock> acquire(String kind, String... excludedBy) throws IOException {
        Lock lock = write(kind);
        boolean busy = false;
        try {
            for (String excluding : excludedBy) {
                busy |= anyFresh(excluding, lock.key());
            }
        } catch (IOException | RuntimeException e) {
            lock.releaseAfter(e);
            throw e;
        }
        if (busy) {
            lock.close();
            return Optional.empty();
        }
        return Optional.of(lock);
    }

    /** Deletes the locks of holders that died; only a prune, which holds its own lock, calls this. */
    void deleteStale() throws IOException {
        for (String key : target.list(PREFIX)) {
            if (isStale(key)) {
                target.delete(key);
            }
        }
    }

    private boolean isStale(String key) throws IOException {
        Optional<Duration> age = age(key);
        return age.isPresent() && (age.get().compareTo(STALE_AFTER) > 0 || holderIsGone(key));
    }

    /**
     * True only when the lock names a process of this host that does not run (not for other hosts):
     * its pid is not running, or runs a process that started at another time than the holder did.
     */
    private boolean holderIsGone(String key) throws IOException {
        LockInfo info;
        try {
            info = Json.read(target.get(key), LockInfo.class, "lock " + key);
        } catch (NoSuchFileException e) {
            return false; // released since listed
        } catch (IOException | RuntimeException unreadable) {
            return false; // torn or foreign: only its age can tell
        }
        String holder = info.holder();
        if (HOLDER.equals(holder) && Objects.equals(HOLDER_STARTED, info.holderStarted())) {
            return !HELD.contains(key); // this process: it knows what it holds
        }
        int at = holder == null ? -1 : holder.indexOf('@');
        if (at <= 0 || !holder.substring(at + 1).equals(THIS_HOST)) {
            return false;
        }
        Optional<ProcessHandle> process;
        try {
            process = ProcessHandle.of(Long.parseLong(holder.substring(0, at)));
        } catch (NumberFormatException e) {
            return false;
        }
        if (process.isEmpty() || !process.get().isAlive()) {
            return true;
        }
        Instant started = process.get().info().startInstant().orElse(null);
        return info.holderStarted() != null && started != null && !started.equals(info.holderStarted());
    }

    /**
     * A put may fail after its object landed (a file target's rename is in place when the sync of its
     * directory is interrupted), so a lock whose first write failed is deleted all the same.
     */
    private Lock write(String kind) throws IOException {
        Lock lock = new Lock(kind, PREFIX + kind + UUID.randomUUID());
        HELD.add(lock.key());
        try {
            lock.refresh();
        } catch (IOException | RuntimeException e) {
            lock.releaseAfter(e);
            throw e;
        }
        return lock;
    }

    private boolean anyFresh(String kind, String exceptKey) throws IOException {
        for (String key : target.list(PREFIX + kind)) {
            if (!key.equals(exceptKey) && age(key).isPresent() && !isStale(key)) {
                return true;
            }
        }
        return false;
    }

    /** Empty when the lock was released since it was listed. */
    private Optional<Duration> age(String key) throws IOException {
        try {
            return Optional.of(Duration.between(target.modified(key), Instant.now()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** A lock held by this process; closing it releases it. */
    final class Lock implements AutoCloseable {
        private final String kind;
        private final String key;
        private Instant written = Instant.MIN;
        private boolean closed;

        private Lock(String kind, String key) {
            this.kind = kind;
            this.key = key;
        }

        String key() {
            return key;
        }

        /** Keeps a long backup's lock from turning stale; cheap to call often. */
        void refreshIfDue() throws IOException {
            if (Instant.now().isAfter(written.plus(REFRESH_EVERY))) {
                refresh();
            }
        }

        private void refresh() throws IOException {
            Instant now = Instant.now();
            target.put(key, Json.write(new LockInfo(kind.replace("-", ""), HOLDER, now, HOLDER_STARTED)));
            written = now;
        }

        /**
         * Releases the lock even on an interrupted thread (a delete that stops an upload interrupts
         * it): a lock left behind by a live process would hold off every prune for an hour.
         */
        @Override
        public void close() throws IOException {
            closed = true;
            HELD.remove(key); // before the delete: one that fails leaves a lock any prune may take as stale
            Interrupts.runCleared(() -> target.delete(key));
        }

        /** Releases the lock after {@code failure}, which the caller throws; a failed release is added to it. */
        void releaseAfter(Exception failure) {
            try {
                close();
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }
}
