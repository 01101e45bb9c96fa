package dev.strata.driver;

import static dev.strata.driver.ClusterTest.volumeOn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.api.v1alpha1.KubeClients;
import dev.strata.csi.v1.CapacityRange;
import dev.strata.csi.v1.ControllerExpandVolumeRequest;
import dev.strata.csi.v1.ControllerModifyVolumeRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.DeleteVolumeRequest;
import dev.strata.csi.v1.GetCapacityRequest;
import dev.strata.testkit.Csi;
import dev.strata.testkit.MockCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RBAC is exactly what the code uses: every request the controller and node plugins send to the API
 * server, over a session that exercises every path (create, retries racing on one name, snapshot,
 * restore, expand, modify, capacity, delete, a node plugin's first start and restart), is allowed by
 * the ClusterRoles bound to that component's service account in deploy/manifests/rbac (and, for the
 * Secret copies of a class's backup secrets, its Roles), and every verb those roles grant on Strata's
 * resources and on Secrets was used.
 */
class RbacCoverageTest {
    private static final Path RBAC = MockCluster.repo().resolve("deploy/manifests/rbac");
    private static final Pattern PATH = Pattern.compile(
            "/apis/(?<group>[^/]+)/[^/]+/(?<resource>[^/?]+)(?:/(?<name>[^/?]+))?(?:/(?<sub>[^/?]+))?(?:\\?(?<query>.*))?");
    /** The one core resource Strata's own code touches: the Secret copies, in the driver's namespace. */
    private static final Pattern SECRETS = Pattern.compile(
            "/api/v1/namespaces/[^/]+/secrets(?:/(?<name>[^/?]+))?(?:\\?(?<query>.*))?");

    @RegisterExtension
    final ClusterHarness cluster = new ClusterHarness();

    /** What one request asks of RBAC, as {@code component verb group/resource[/subresource]}. */
    record Access(String component, String verb, String resource) implements Comparable<Access> {
        @Override
        public int compareTo(Access o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return component + " " + verb + " " + resource;
        }
    }

    @Test
    void everyCallIsAllowedAndEveryGrantIsUsed() throws Exception {
        cluster.startNode("node-a");
        cluster.startController();
        String id = cluster.controller().createVolume(volumeOn("pvc-rbac", "node-a").build()).getVolume()
                .getVolumeId();
        racingSnapshots(id, 8);
        String snapshot = cluster.controller().createSnapshot(Csi.snapshot("snap-rbac", id)).getSnapshot()
                .getSnapshotId();
        String restored = cluster.controller().createVolume(Csi.createVolume("pvc-restored")
                .setVolumeContentSource(Csi.fromSnapshot(snapshot)).build()).getVolume().getVolumeId();
        cluster.controller().controllerExpandVolume(ControllerExpandVolumeRequest.newBuilder().setVolumeId(id)
                .setCapacityRange(CapacityRange.newBuilder().setRequiredBytes(128L << 20)).build());
        cluster.controller().controllerModifyVolume(ControllerModifyVolumeRequest.newBuilder().setVolumeId(id)
                .putMutableParameters("mode", "0750").build());
        cluster.controller().getCapacity(GetCapacityRequest.newBuilder()
                .setAccessibleTopology(ClusterTest.on("node-a")).build());
        String remote = remoteSnapshotWithSecrets(id);
        cluster.stopNode("node-a");
        cluster.startNode("node-a");
        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshot).build());
        cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(remote)
                .putAllSecrets(BACKUP_SECRETS).build());
        for (String volume : List.of(restored, id)) {
            cluster.controller().deleteVolume(DeleteVolumeRequest.newBuilder().setVolumeId(volume).build());
        }

        Set<Access> used = recorded();
        Map<String, Set<Access>> granted = Map.of(
                KubeClients.CONTROLLER, grants(KubeClients.CONTROLLER, "strata-controller"),
                KubeClients.NODE, grants(KubeClients.NODE, "strata-node"));
        Set<Access> denied = new TreeSet<>();
        for (Access a : used) {
            if (!granted.get(a.component()).contains(a)) {
                denied.add(a);
            }
        }
        assertEquals(Set.of(), denied, "calls the manifests' RBAC does not allow");
        Set<Access> unused = new TreeSet<>();
        granted.values().forEach(unused::addAll);
        unused.removeAll(used);
        assertEquals(Set.of(), unused, "grants no call needs (least privilege)");
    }

    private static final Map<String, String> BACKUP_SECRETS = Map.of("backupKey", "rbac passphrase");

    /**
     * A snapshot kept in a file target with a class's secrets (the controller copies them into a
     * Secret, the node reads it), asked again with one more key (the copy is updated), until stored.
     */
    private String remoteSnapshotWithSecrets(String volumeId) throws Exception {
        String target = "file://" + Files.createDirectories(cluster.root().resolve("rbac-target"));
        var ask = Csi.snapshot("snap-rbac-remote", volumeId).toBuilder().putParameters("backupTarget", target)
                .putAllSecrets(BACKUP_SECRETS).build();
        var snap = cluster.controller().createSnapshot(ask).getSnapshot();
        var rotated = ask.toBuilder().putSecrets("rotatedAt", "now").build();
        for (int i = 0; i < 240 && !snap.getReadyToUse(); i++) {
            Thread.sleep(250);
            snap = cluster.controller().createSnapshot(rotated).getSnapshot();
        }
        assertTrue(snap.getReadyToUse(), "stored: " + snap);
        return snap.getSnapshotId();
    }

    /** CreateSnapshot calls racing on one name: the losers read what the winner made. */
    private void racingSnapshots(String volumeId, int calls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(calls);
        try {
            List<Future<String>> ids = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                ids.add(pool.submit(() -> cluster.controller().createSnapshot(Csi.snapshot("snap-race", volumeId))
                        .getSnapshot().getSnapshotId()));
            }
            Set<String> distinct = new TreeSet<>();
            for (Future<String> f : ids) {
                distinct.add(f.get(60, TimeUnit.SECONDS));
            }
            assertEquals(1, distinct.size());
            cluster.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder()
                    .setSnapshotId(distinct.iterator().next()).build());
        } finally {
            pool.shutdown();
        }
    }

    /** Every request the plugins made to Strata's API group, by the component its user agent names. */
    private Set<Access> recorded() throws InterruptedException {
        Set<Access> used = new TreeSet<>();
        RecordedRequest request;
        while ((request = cluster.mock().server().takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
            String agent = request.getHeader("User-Agent");
            String component = agent == null ? "" : agent.split("/")[0];
            if (!Set.of(KubeClients.CONTROLLER, KubeClients.NODE).contains(component)) {
                continue;
            }
            Matcher secrets = SECRETS.matcher(request.getPath());
            if (secrets.matches()) {
                used.add(new Access(component, verb(request.getMethod(), secrets.group("name") != null,
                        secrets.group("query")), "secrets"));
                continue;
            }
            Matcher m = PATH.matcher(request.getPath());
            if (!m.matches() || !m.group("group").equals("strata.csi.dev")) {
                continue;
            }
            String resource = m.group("resource") + (m.group("sub") == null ? "" : "/" + m.group("sub"));
            used.add(new Access(component, verb(request.getMethod(), m.group("name") != null,
                    m.group("query")), resource));
        }
        assertTrue(used.size() > 10, "the session made requests: " + used);
        return used;
    }

    private static String verb(String method, boolean named, String query) {
        return switch (method) {
            case "GET" -> named ? "get" : query != null && query.contains("watch=true") ? "watch" : "list";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> named ? "delete" : "deletecollection";
            default -> method;
        };
    }

    /** The grants on strata.csi.dev of the roles the manifests bind to the service account. */
    private Set<Access> grants(String component, String serviceAccount) throws IOException {
        List<HasMetadata> objects = new ArrayList<>();
        try (var files = Files.list(RBAC)) {
            for (Path f : files.filter(f -> !f.endsWith("kustomization.yaml")).toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    objects.addAll(cluster.api().load(in).items());
                }
            }
        }
        Set<String> roles = new TreeSet<>();
        objects.stream().filter(ClusterRoleBinding.class::isInstance).map(ClusterRoleBinding.class::cast)
                .filter(b -> b.getSubjects().stream().anyMatch(s -> s.getName().equals(serviceAccount)))
                .forEach(b -> roles.add(b.getRoleRef().getName()));
        Set<String> namespaced = new TreeSet<>();
        objects.stream().filter(RoleBinding.class::isInstance).map(RoleBinding.class::cast)
                .filter(b -> b.getSubjects().stream().anyMatch(s -> s.getName().equals(serviceAccount)))
                .forEach(b -> namespaced.add(b.getRoleRef().getName()));
        Set<Access> grants = new TreeSet<>();
        objects.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast)
                .filter(r -> roles.contains(r.getMetadata().getName()))
                .flatMap(r -> r.getRules().stream())
                .filter(rule -> rule.getApiGroups().contains("strata.csi.dev"))
                .forEach(rule -> add(grants, component, rule));
        // The namespaced roles, on the core resources Strata's own code uses (the sidecars' Role is theirs).
        objects.stream().filter(Role.class::isInstance).map(Role.class::cast)
                .filter(r -> namespaced.contains(r.getMetadata().getName())
                        && !r.getMetadata().getName().endsWith("-sidecars"))
                .flatMap(r -> r.getRules().stream())
                .filter(rule -> rule.getApiGroups().contains("") && rule.getResources().contains("secrets"))
                .forEach(rule -> add(grants, component, rule));
        return grants;
    }

    private static void add(Set<Access> grants, String component, PolicyRule rule) {
        for (String resource : rule.getResources()) {
            for (String verb : rule.getVerbs()) {
                grants.add(new Access(component, verb, resource));
            }
        }
    }
}
