package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.ResourceWrites;
import dev.strata.api.v1alpha1.Resources;
import dev.strata.api.v1alpha1.StrataVolume;
import dev.strata.api.v1alpha1.StrataVolumeStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plays the node plugins' part on the mock API server, as far as the controller can see it: makes
 * each StrataVolume Ready at the size asked, grows it, takes its mutable parameters, and lets its
 * finalizer go once it is deleted. It refuses as a node would: a {@link #REFUSE} parameter fails the
 * volume with that gRPC code; a {@link #BUSY} one keeps a deleted volume, in use; a mode that is not
 * an octal file mode is INVALID_ARGUMENT, as the dir engine answers.
 */
final class FakeNodes implements AutoCloseable {
    static final String REFUSE = "test.strata.csi.dev/refuse";
    static final String BUSY = "test.strata.csi.dev/busy";
    static final String REFUSED = "refused for the test";
    static final String IN_USE = "the volume is in use by a pod";
    private static final long SMALLEST = 1L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(FakeNodes.class);

    private final KubernetesClient client;
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final SharedIndexInformer<StrataVolume> informer;

    FakeNodes(KubernetesClient client) {
        this.client = client;
        this.informer = client.resources(StrataVolume.class).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(StrataVolume v) {
                later(v);
            }

            @Override
            public void onUpdate(StrataVolume old, StrataVolume v) {
                later(v);
            }

            @Override
            public void onDelete(StrataVolume v, boolean finalStateUnknown) {}
        });
    }

    /** Off the informer's thread, one at a time, as a node's reconciler works. */
    private void later(StrataVolume v) {
        String name = v.getMetadata().getName();
        worker.execute(() -> {
            try {
                act(name);
            } catch (RuntimeException e) {
                LOG.warn("fake node: {}", name, e);
            }
        });
    }

    private void act(String name) {
        StrataVolume v = client.resources(StrataVolume.class).withName(name).get();
        if (v == null) {
            return;
        }
        if (v.getMetadata().getDeletionTimestamp() != null) {
            if (parameters(v).containsKey(BUSY)) {
                ResourceWrites.status(client, StrataVolume.class, name, r -> {
                    status(r).setErrorCode("FAILED_PRECONDITION");
                    status(r).setMessage(IN_USE);
                    return r;
                });
            } else {
                ResourceWrites.metadata(client, StrataVolume.class, name, r -> {
                    r.getMetadata().getFinalizers().remove(Resources.FINALIZER);
                    return r;
                });
            }
            return;
        }
        ResourceWrites.status(client, StrataVolume.class, name, r -> {
            StrataVolumeStatus st = status(r);
            String refused = parameters(r).get(REFUSE);
            String mode = Objects.requireNonNullElse(r.getSpec().getMutableParameters(), Map.<String, String>of())
                    .get("mode");
            if (refused != null) {
                st.setPhase(Resources.FAILED);
                st.setErrorCode(refused);
                st.setMessage(REFUSED);
            } else if (mode != null && !mode.matches("0[0-7]{3}")) {
                st.setPhase(Resources.READY.equals(st.getPhase()) ? Resources.READY : Resources.FAILED);
                st.setErrorCode("INVALID_ARGUMENT");
                st.setMessage("mutable_parameters.mode: \"" + mode + "\" is not an octal file mode");
            } else {
                st.setPhase(Resources.READY);
                st.setCapacityBytes(Math.max(st.getCapacityBytes(), Math.max(r.getSpec().getRequiredBytes(),
                        SMALLEST)));
                st.setErrorCode(null);
                st.setMessage(null);
            }
            st.setObservedGeneration(r.getMetadata().getGeneration());
            return r;
        });
    }

    private static Map<String, String> parameters(StrataVolume v) {
        return Objects.requireNonNullElse(v.getSpec().getParameters(), Map.of());
    }

    private static StrataVolumeStatus status(StrataVolume v) {
        if (v.getStatus() == null) {
            v.setStatus(new StrataVolumeStatus());
        }
        return v.getStatus();
    }

    @Override
    public void close() {
        informer.close();
        worker.shutdownNow();
    }
}
