package dev.strata.node.storage;

import static dev.strata.node.storage.BackupCalls.fromCall;
import static dev.strata.node.storage.BackupCalls.mapped;

import dev.strata.backup.BackupException;
import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSecrets;
import dev.strata.backup.BackupSummary;
import dev.strata.backup.BackupTarget;
import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.ErrorMapper;
import dev.strata.common.LockTable;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.Secrets;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.node.engine.VolumeEngine;
import io.grpc.Status;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Snapshots kept off the node (Convoy's backups): a snapshot whose parameters name a
 * {@value #BackupRef.TARGET_PARAMETER} is cut locally as any other, then uploaded in the background
 * to that target; until the upload is stored its record says UPLOADING and CSI's ready_to_use is
 * false. An upload a restart interrupted resumes on the next CreateSnapshot of the same name (chunks
 * already stored are not sent again). Engines whose data is a directory tree back up file by file,
 * thin volumes block by block, overlay volumes layer by layer ({@link SnapshotContent}). A target
 * opens with the call's secrets ({@link BackupSecrets}: S3 credentials and the key) where it carries
 * them, else with the node's own ({@link BackupCalls}). An upload opened with a call's secrets
 * resumes only on a call, which carries them again. Volumes restored from a backup are
 * {@link BackupRestores}'.
 */
final class SnapshotBackups implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotBackups.class);
    /** How many other stored snapshots a backup may look into (one small manifest read each). */
    private static final int ALIKE = 8;

    private final Records records;
    private final LockTable locks;
    private final BackupCalls calls;
    private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
    private final ExecutorService uploader = oneDaemonThread("backup-upload");
    /** Opens a target while a snapshot for it is cut (see {@link #unlockAhead}). */
    private final ExecutorService unlocker = oneDaemonThread("backup-unlock");

    SnapshotBackups(Records records, LockTable locks, BackupCalls calls) {
        this.records = records;
        this.locks = locks;
        this.calls = calls;
    }

    private static ExecutorService oneDaemonThread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The backup a snapshot with these parameters asks for, or null; checked (with the call's
     * secrets) before anything is cut.
     */
    BackupRef plan(String snapshotId, Map<String, String> parameters, VolumeEngine engine, Secrets secrets) {
        String url = parameters.get(BackupRef.TARGET_PARAMETER);
        if (url == null) {
            return null;
        }
        String field = "parameters." + BackupRef.TARGET_PARAMETER;
        SnapshotContent.of(engine, field);
        BackupSecrets fromCall = fromCall(secrets);
        try {
            return BackupRef.uploading(BackupTarget.open(url, fromCall).url(), snapshotId)
                    .withCallSecrets(!fromCall.isEmpty());
        } catch (IOException e) {
            throw mapped(field, e);
        }
    }

    /**
     * Opens the planned backup's target on another thread, while the snapshot is cut: the keys of an
     * encrypted target take 0.8 to 1 s of PBKDF2 in the driver's JVM, which then overlap the cut (a
     * copy of the tree for dir, shared and hostpath) instead of delaying the upload, which finds them
     * derived or waits for them ({@code KeyCache}). Only a target opened with a key is opened ahead
     * (an unencrypted one has nothing to derive); an empty one gets its config now, as the upload
     * would give it. A failure is the upload's to report; nothing is reported from here.
     */
    void unlockAhead(BackupRef planned, Secrets secrets) {
        if (planned == null) {
            return;
        }
        BackupSecrets fromCall = fromCall(secrets);
        unlocker.execute(() -> {
            try {
                BackupSecrets withKey = calls.withNodeKey(fromCall);
                if (withKey.key() != null) {
                    BackupRepository.open(planned.target(), withKey);
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("opening {} ahead of its upload: {}", planned.target(), e.toString());
            }
        });
    }

    /**
     * Starts (or resumes) the upload of a cut snapshot, unless one is already running; {@code secrets}
     * are the call's, held by the upload only while it runs. The caller holds the snapshot's lock.
     * Returns the record the call answers with: a failed upload is answered as failed once, by the call
     * that tries it again, and its record says UPLOADING again (written before the try starts), so that
     * the calls after it follow that try, and see its failure, if it fails, once.
     */
    SnapshotRecord upload(SnapshotRecord snapshot, VolumeEngine engine, Secrets secrets) throws IOException {
        if (snapshot.backup() == null || snapshot.backup().phase() == BackupRef.Phase.STORED) {
            return snapshot;
        }
        SnapshotContent content = SnapshotContent.of(engine, "parameters." + BackupRef.TARGET_PARAMETER);
        Upload running = uploads.get(snapshot.id());
        if (running != null && !running.future.isDone()) {
            return snapshot;
        }
        SnapshotRecord uploading = snapshot;
        if (snapshot.backup().phase() == BackupRef.Phase.FAILED) {
            uploading = snapshot.withBackup(snapshot.backup().retrying());
            records.snapshots().put(uploading);
        }
        // No other upload of it can start meanwhile: every caller holds the snapshot's lock (the
        // start-up's resume runs before any call is served).
        uploads.put(snapshot.id(), start(uploading, content, fromCall(secrets)));
        return snapshot;
    }

    /**
     * One upload in flight. Whoever claims it first decides: the uploader (it runs) or a delete (it
     * never starts). A started upload says when it has stopped reading the snapshot and writing the
     * target, before it records its outcome (which waits for the snapshot's lock, held by the delete).
     */
    private static final class Upload {
        final AtomicBoolean claimed = new AtomicBoolean();
        final CountDownLatch stopped = new CountDownLatch(1);
        Future<?> future;
    }

    private Upload start(SnapshotRecord snapshot, SnapshotContent content, BackupSecrets fromCall) {
        Upload upload = new Upload();
        upload.future = uploader.submit(() -> {
            if (!upload.claimed.compareAndSet(false, true)) {
                return; // a delete claimed it first
            }
            BackupRef outcome;
            try {
                outcome = backUp(snapshot, content, fromCall);
            } finally {
                upload.stopped.countDown();
            }
            if (Thread.currentThread().isInterrupted()) {
                // Stopped by a delete, which removes the record, or by shutdown, after which a restart
                // redoes an UPLOADING record: nothing to record (and no file to write from this thread).
                uploads.remove(snapshot.id(), upload);
                return;
            }
            settle(snapshot.id(), outcome, upload);
        });
        return upload;
    }

    private BackupRef backUp(SnapshotRecord snapshot, SnapshotContent content, BackupSecrets fromCall) {
        BackupRef ref = snapshot.backup();
        BackupRef outcome;
        long started = System.nanoTime();
        try {
            BackupRepository repository = BackupRepository.open(ref.target(), calls.withNodeKey(fromCall));
            BackupSummary summary = content.backUp(repository, snapshot, Map.of("volume", snapshot.sourceVolumeId(),
                    "snapshot", snapshot.name(), "engine", snapshot.engine()), parentIn(repository, snapshot),
                    storedAlike(snapshot));
            CrashPoint.reach("snapshot.backup.stored"); // stored in the target, the record still UPLOADING
            LOG.info("snapshot {} stored in {} in {} ms: {} files, {} bytes, {} bytes read, {} new chunks, {} bytes "
                    + "uploaded", snapshot.id(), ref.target(), (System.nanoTime() - started) / 1_000_000,
                    summary.files(), summary.logicalBytes(), summary.readBytes(), summary.newChunks(),
                    summary.uploadedBytes());
            outcome = ref.stored();
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // an upload that runs out of heap (a huge manifest) fails like any other, and says so:
            // an Error left in the Future would leave the snapshot UPLOADING with nothing running
            if (Thread.currentThread().isInterrupted()) {
                LOG.info("snapshot {}: upload to {} stopped", snapshot.id(), ref.target());
            } else {
                LOG.warn("snapshot {}: upload to {} failed: {}", snapshot.id(), ref.target(), e.toString());
            }
            Status failure = failure("parameters." + BackupRef.TARGET_PARAMETER, e);
            outcome = ref.failed(failure.getCode().name(), failure.getDescription());
        }
        return outcome;
    }

    /**
     * A failure of an upload (or of a removal) as the status a CreateSnapshot (or DeleteSnapshot) of the
     * snapshot answers, naming {@code field}: the target's failures as a restore's
     * ({@link BackupCalls#mapped}), the rest as any call's ({@link ErrorMapper}). NOT_FOUND and
     * ALREADY_EXISTS mean something else to those calls (no source volume, a name taken): the target's
     * own are FAILED_PRECONDITION, what it is not ready for.
     */
    private static Status failure(String field, Throwable e) {
        Throwable mapped = e instanceof IOException io ? mapped(field, io) : e;
        Status status = ErrorMapper.toStatus(mapped);
        return switch (status.getCode()) {
            case NOT_FOUND, ALREADY_EXISTS -> Status.FAILED_PRECONDITION.withDescription(status.getDescription());
            default -> status;
        };
    }

    /**
     * The snapshot of the same volume last stored in the same target: what its backup holds need not
     * be read again. Null when there is none (the first backup reads everything; chunks still
     * deduplicate).
     */
    private SnapshotRecord parent(SnapshotRecord snapshot) {
        return storedBeside(snapshot).filter(s -> s.sourceVolumeId().equals(snapshot.sourceVolumeId()))
                .max(Comparator.comparing(SnapshotRecord::createdAt)).orElse(null);
    }

    /**
     * The backups of the node's other snapshots of the same engine stored in the same target, newest
     * first, at most {@value #ALIKE}: a backup may reuse what it finds unchanged in them.
     */
    private List<String> storedAlike(SnapshotRecord snapshot) {
        return storedBeside(snapshot).filter(s -> s.engine().equals(snapshot.engine()))
                .sorted(Comparator.comparing(SnapshotRecord::createdAt).reversed()).limit(ALIKE)
                .map(s -> s.backup().name()).toList();
    }

    /** The node's other snapshots stored in the same target as this one's backup. */
    private Stream<SnapshotRecord> storedBeside(SnapshotRecord snapshot) {
        return records.snapshots().all().stream().filter(s -> !s.id().equals(snapshot.id()))
                .filter(s -> s.backup() != null && s.backup().phase() == BackupRef.Phase.STORED
                        && s.backup().target().equals(snapshot.backup().target()));
    }

    /**
     * The parent, unless its backup is gone from the target (removed by hand, {@code stratactl backup
     * rm}): a parent only spares reads, so without it the backup reads everything rather than fail.
     */
    private SnapshotRecord parentIn(BackupRepository repository, SnapshotRecord snapshot) throws IOException {
        SnapshotRecord parent = parent(snapshot);
        if (parent != null && !repository.exists(parent.backup().name())) {
            LOG.warn("snapshot {}: the backup of its parent {} is gone from {}; reading everything", snapshot.id(),
                    parent.id(), snapshot.backup().target());
            return null;
        }
        return parent;
    }

    /**
     * Writes the upload's outcome into the record, under the snapshot's lock (a call on it may hold the
     * lock for a moment: wait for it), unless the snapshot is being deleted or gone meanwhile. The lock
     * is held briefly, so that a CO's call arriving meanwhile (a DeleteSnapshot right after the
     * CreateSnapshot, as csi-sanity makes) waits for the write instead of answering ABORTED.
     */
    private void settle(String snapshotId, BackupRef outcome, Upload upload) {
        try {
            while (true) {
                try (LockTable.Held held = locks.acquireBriefly(LockKeys.snapshot(snapshotId))) {
                    Optional<SnapshotRecord> current = records.snapshots().get(snapshotId);
                    if (current.isPresent() && current.get().state() == RecordState.READY) {
                        records.snapshots().put(current.get().withBackup(outcome));
                    }
                    return;
                } catch (CsiException busy) {
                    if (busy.code() != Status.Code.ABORTED) {
                        throw busy;
                    }
                    Thread.sleep(20);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("snapshot {}: could not record the upload's outcome ({}); the next CreateSnapshot redoes it",
                    snapshotId, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            uploads.remove(snapshotId, upload);
        }
    }

    /**
     * Removes a snapshot's backup from its target: stops its upload first, then removes the manifest
     * and prunes the chunks only it used. Without the key of an encrypted target only the manifest
     * goes; its chunks wait for the next prune that has the key. A target that is no backup target
     * (its upload failed on that) holds nothing to remove. A target that fails is the delete's
     * failure, by the same codes as an upload's (UNAVAILABLE while it cannot be reached): the
     * snapshot stays until its backup is gone.
     */
    void remove(SnapshotRecord snapshot, Secrets secrets) throws IOException {
        BackupRef ref = snapshot.backup();
        if (ref == null) {
            return;
        }
        awaitUpload(snapshot.id());
        try {
            removeFrom(snapshot.id(), ref, secrets);
        } catch (IOException e) {
            Status failure = failure("snapshot " + snapshot.id() + "'s backup target", e);
            throw new CsiException(failure.getCode(), failure.getDescription());
        }
    }

    private void removeFrom(String snapshotId, BackupRef ref, Secrets secrets) throws IOException {
        try {
            Optional<BackupRepository> repository = BackupRepository.openExisting(ref.target(), calls.forCall(secrets));
            if (repository.isEmpty()) {
                // a stored backup's target that lost its config can be read by nothing: leave its files
                LOG.atLevel(ref.phase() == BackupRef.Phase.STORED ? Level.WARN : Level.INFO).log(
                        "snapshot {}: {} holds no backup config; nothing of it to remove there", snapshotId,
                        ref.target());
                return;
            }
            repository.get().remove(ref.name());
        } catch (BackupException e) {
            if (e.kind() != BackupException.Kind.KEY_REQUIRED && e.kind() != BackupException.Kind.WRONG_KEY) {
                throw e;
            }
            BackupRepository.removeManifestOnly(ref.target(), fromCall(secrets), ref.name());
        }
    }

    /**
     * Stops the snapshot's upload: one not yet started never starts; a started one is interrupted
     * (its reads and writes fail at once) and waited for, so that nothing reads the snapshot or
     * writes the target after this returns.
     */
    private void awaitUpload(String snapshotId) throws IOException {
        Upload running = uploads.get(snapshotId);
        if (running == null) {
            return;
        }
        if (running.claimed.compareAndSet(false, true)) {
            running.future.cancel(false);
            uploads.remove(snapshotId, running);
            return;
        }
        running.future.cancel(true);
        try {
            if (!running.stopped.await(30, TimeUnit.SECONDS)) {
                throw CsiException.aborted("snapshot " + snapshotId + ": its upload is still stopping; retry");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the upload of " + snapshotId, e);
        }
    }

    /** Stops uploading; an interrupted upload resumes on the next CreateSnapshot after a restart. */
    @Override
    public void close() {
        unlocker.shutdownNow();
        uploader.shutdownNow();
    }
}
