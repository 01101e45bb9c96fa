package dev.strata.node.cluster;

import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataSnapshot;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.node.storage.Engines;
import dev.strata.node.storage.LocalStorage;
import dev.strata.node.storage.StorageConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import dev.strata.common.metrics.Sample;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node plugin's side of the API server: informers on this node's StrataVolumes and
 * StrataSnapshots only (by label), work queues that reconcile them into storage calls, the
 * StrataNode report, written at start, after every change of storage, and every {@code interval},
 * and Kubernetes Events for what a user must act on ({@link EventRecorder}).
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);
    private static final int WORKERS = 4;
    /** One reason on one object is posted at most this often (a failing reconcile is retried far more). */
    private static final Duration EVENTS_QUIET = Duration.ofMinutes(10);

    private final NodeStatusWriter reporter;
    private final SharedIndexInformer<StrataVolume> volumes;
    private final SharedIndexInformer<StrataSnapshot> snapshots;
    private final WorkQueue volumeQueue;
    private final WorkQueue snapshotQueue;
    private final ScheduledExecutorService reports = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "strata-node-report");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean reportPending = new AtomicBoolean();

    private NodeAgent(KubernetesClient client, LocalStorage storage, Engines engines, StorageConfig config,
            Duration resync) {
        String node = config.nodeId();
        EventRecorder events = new EventRecorder(client, node, EVENTS_QUIET, Clock.systemUTC());
        this.reporter = new NodeStatusWriter(client, storage, engines, config, new PoolEvents(events));
        this.volumes = client.resources(StrataVolume.class).withLabel(Resources.NODE_LABEL, node)
                .runnableInformer(resync.toMillis());
        this.snapshots = client.resources(StrataSnapshot.class).withLabel(Resources.NODE_LABEL, node)
                .runnableInformer(resync.toMillis());
        VolumeReconciler volumeReconciler = new VolumeReconciler(client, storage, node, volumes.getStore(),
                this::requestReport, events);
        SnapshotReconciler snapshotReconciler = new SnapshotReconciler(client, storage, node, snapshots.getStore(),
                this::requestReport);
        this.volumeQueue = new WorkQueue("volumes", WORKERS, volumeReconciler::reconcile);
        this.snapshotQueue = new WorkQueue("snapshots", WORKERS, snapshotReconciler::reconcile);
        volumes.addEventHandler(enqueue(volumeQueue::add));
        snapshots.addEventHandler(enqueue(snapshotQueue::add));
    }

    /**
     * Reports the node, then starts reconciling. {@code resync} re-reconciles every resource that
     * often (health and publication status); the node report is rewritten as often.
     */
    public static NodeAgent start(KubernetesClient client, LocalStorage storage, Engines engines, StorageConfig config,
            Duration resync) throws Exception {
        NodeAgent agent = new NodeAgent(client, storage, engines, config, resync);
        agent.reporter.report();
        agent.volumes.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
        agent.snapshots.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
        agent.reports.scheduleWithFixedDelay(agent::reportNow, resync.toMillis(), resync.toMillis(),
                TimeUnit.MILLISECONDS);
        LOG.info("node agent for {}: {} volumes, {} snapshots in the API", config.nodeId(),
                agent.volumes.getStore().list().size(), agent.snapshots.getStore().list().size());
        return agent;
    }

    private static <T extends HasMetadata> ResourceEventHandler<T> enqueue(Consumer<String> queue) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                queue.accept(obj.getMetadata().getName());
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                queue.accept(newObj.getMetadata().getName());
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                // Gone from the API: the finalizer saw to it that its storage went first.
            }
        };
    }

    /** A volume was staged or unstaged here: its status says where it is in use, now rather than at the resync. */
    public void usageChanged(String volumeId) {
        volumeQueue.add(volumeId);
    }

    /** The work queues as metrics. */
    public List<Sample> samples() {
        List<Sample> all = new ArrayList<>(volumeQueue.samples());
        all.addAll(snapshotQueue.samples());
        return all;
    }

    /** Rewrites the node's report soon; many requests in a burst make one write. */
    private void requestReport() {
        if (reportPending.compareAndSet(false, true) && !reports.isShutdown()) {
            reports.schedule(this::reportNow, 100, TimeUnit.MILLISECONDS);
        }
    }

    private void reportNow() {
        reportPending.set(false);
        try {
            reporter.report();
        } catch (RuntimeException e) {
            LOG.warn("cannot write the node's report: {}", e.toString());
        }
    }

    /** Stops watching and lets running reconciles finish; what is left is redone at the next start. */
    @Override
    public void close() throws InterruptedException {
        volumes.close();
        snapshots.close();
        reports.shutdownNow();
        volumeQueue.close();
        snapshotQueue.close();
    }
}
