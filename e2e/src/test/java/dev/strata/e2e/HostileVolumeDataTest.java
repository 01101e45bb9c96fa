package dev.strata.e2e;

import static dev.strata.e2e.HostileInlineVolumesTest.assertRefused;
import static dev.strata.e2e.Runc.Mount.rw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.VolumeContentSource;
import dev.strata.e2e.Kubelet.Pv;
import dev.strata.node.sys.Posix;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A pod author attacks through what they write into their own volumes: links that point at the
 * host, planted between two snapshots or swapped in while a copy runs, and through a hostpath
 * volume above another tenant's (issue 12, findings 2, 3, 4, 5, 6, 9). Every attack is followed by
 * a check that the decoy host directory is exactly as it was and that no host secret reached any
 * of Strata's copies.
 */
class HostileVolumeDataTest extends E2eFixture {
    private Decoy decoy;

    /** renameat2(2) with RENAME_EXCHANGE: a pod's process swapping a directory and a link atomically. */
    public interface Exchange {
        int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags);
    }

    private static final Exchange EXCHANGE = LibraryLoader.create(Exchange.class).load("c");

    @BeforeEach
    void decoy() throws Exception {
        decoy = new Decoy();
    }

    @AfterEach
    void unchanged() {
        decoy.assertUnchanged();
        decoy.close();
    }

    private String snapshot(String name, Pv pv) {
        return driver.controller().createSnapshot(CreateSnapshotRequest.newBuilder().setName(name)
                .setSourceVolumeId(pv.handle()).build()).getSnapshot().getSnapshotId();
    }

    /** No file Strata keeps (volumes, snapshots, layers, trash) holds the decoy's secret. */
    private void assertNoSecretCopied() {
        Runc.Result grep = Runc.run(List.of("grep", "-rlF", Decoy.SECRET, driver.dataDir().toString(),
                driver.hostRoot().toString()));
        assertEquals("", grep.stdout(), "host secrets copied into Strata's storage");
    }

    @Test
    void anOverlaySnapshotDoesNotFollowALinkThePodPlantedWhereADirectoryWas() throws Exception {
        Pv pv = kubelet.create("planted", "overlay");
        kubelet.stage(pv);
        Path data = kubelet.publish(pv, "pod-planter", false);
        assertSaw("", runc.run("prep", "mkdir -p /data/d && echo 1 > /data/d/x && echo 2 > /data/d/shadow",
                rw(data, "/data")));
        snapshot("planted-1", pv);
        // Between two snapshots the directory becomes a link to a host directory: the next freeze
        // whites out d/x and d/shadow, which once made device nodes in the host directory.
        assertSaw("", runc.run("swap", "rm -rf /data/d && ln -s " + decoy.dir() + " /data/d", rw(data, "/data")));
        String second = snapshot("planted-2", pv);

        Pv restored = kubelet.create("planted-restored", "overlay",
                VolumeContentSource.newBuilder().setSnapshot(VolumeContentSource.SnapshotSource.newBuilder()
                        .setSnapshotId(second)).build());
        kubelet.stage(restored);
        Path view = kubelet.publish(restored, "pod-restored", false);
        assertEquals(decoy.dir(), Files.readSymbolicLink(view.resolve("d")), "the link is restored as a link");
        assertNoSecretCopied();
    }

    /**
     * While snapshots run, the pod swaps a directory of its own and a link to the host as fast as
     * renameat2 goes. A copy that follows the link at the wrong instant copies the host's secret
     * into the snapshot, which a restore then shows to a new pod.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dir", "overlay", "hostpath"})
    void snapshotsOfAVolumeWhoseDirectoryRacesALinkCopyNothingOfTheHost(String engine) throws Exception {
        Pv pv = kubelet.create("race-" + engine, engine);
        kubelet.stage(pv);
        Path data = kubelet.publish(pv, "pod-racer", false);
        Files.createDirectories(data.resolve("d/sub"));
        Files.writeString(data.resolve("d/shadow"), "tenant's own");
        Files.writeString(data.resolve("d/sub/shadow"), "tenant's own");
        Files.createSymbolicLink(data.resolve("l"), decoy.dir());
        String d = data.resolve("d").toString();
        String l = data.resolve("l").toString();
        long[] swaps = new long[1];
        Thread racer = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                if (EXCHANGE.renameat2(-100, d, -100, l, 2 /* RENAME_EXCHANGE */) == 0) {
                    swaps[0]++;
                }
            }
        }, "racer");
        racer.start();
        List<String> snapshots = new ArrayList<>();
        try {
            for (int i = 0; i < 12; i++) {
                snapshots.add(snapshot("race-" + engine + "-" + i, pv));
                Files.writeString(data.resolve("touch-" + i), "changed"); // something for the next increment
            }
        } finally {
            racer.interrupt();
            racer.join();
        }
        assertTrue(swaps[0] > 1000, "the race ran: " + swaps[0] + " swaps");
        assertNoSecretCopied();
        // and the snapshots are the tenant's data: in the last one restored, d and l (where the copy
        // caught them) are the tenant's directory or the link, never what the link points at
        Pv restored = kubelet.create("race-restored-" + engine, engine, VolumeContentSource.newBuilder()
                .setSnapshot(VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshots.get(11))).build());
        kubelet.stage(restored);
        Path view = kubelet.publish(restored, "pod-race-restored", false);
        for (String name : List.of("d", "l")) {
            Path p = view.resolve(name);
            if (Files.isSymbolicLink(p)) {
                assertEquals(decoy.dir(), Files.readSymbolicLink(p), name);
            } else if (Files.exists(p.resolve("shadow"))) {
                assertEquals("tenant's own", Files.readString(p.resolve("shadow")), name);
            }
        }
    }

    private CreateVolumeRequest.Builder hostPath(String pv, String pattern, String namespace, String pvc) {
        return CreateVolumeRequest.newBuilder().setName(pv).addVolumeCapabilities(Kubelet.capability("hostpath"))
                .putParameters("engine", "hostpath").putParameters("pathPattern", pattern)
                .putParameters("csi.storage.k8s.io/pvc/namespace", namespace)
                .putParameters("csi.storage.k8s.io/pvc/name", pvc);
    }

    private Pv createHostPath(String pv, String pattern, String namespace, String pvc) {
        String id = driver.controller().createVolume(hostPath(pv, pattern, namespace, pvc).build()).getVolume()
                .getVolumeId();
        return new Pv(pv, id, "hostpath");
    }

    @Test
    void aHostpathVolumeDoesNotFollowALinkThatAVolumeAboveItPlanted() throws Exception {
        Pv above = createHostPath("pv-tenant", "${pvc.namespace}", "tenant", "any");
        Pv below = createHostPath("pv-tenant-b", "${pvc.namespace}/${pvc.name}", "tenant", "b");
        kubelet.stage(above);
        Path parent = kubelet.publish(above, "pod-above", false);
        assertSaw("", runc.run("plant", "rm -rf /data/b && ln -s " + decoy.dir() + " /data/b", rw(parent, "/data")));

        // Staging the volume below would bind the host directory into the next pod.
        assertRefused(Status.Code.INVALID_ARGUMENT, "symbolic link", () -> kubelet.stage(below));
        assertRefused(Status.Code.INVALID_ARGUMENT, "symbolic link", () -> kubelet.stage(
                Kubelet.existing("static-b", driver.hostRoot().resolve("tenant/b"))));
        assertEquals(List.of(kubelet.staging(above)), DriverProcess.mountsUnder(kubelet.dir().resolve("plugins")),
                "nothing staged but the volume above");
        // Deleting it would move the host directory into the trash and remove it.
        kubelet.delete(below);
        assertTrue(Files.isSymbolicLink(driver.hostRoot().resolve("tenant/b")), "what is there now is left alone");
        kubelet.unpublish(above.handle(), parent);
        kubelet.unstage(above);
        kubelet.delete(above);
    }

    @Test
    void deletingOneHostpathVolumeKeepsWhatAnotherStillUses() throws Exception {
        Path dir = driver.hostRoot().resolve("prod/cache");
        Pv first = createHostPath("pv-first", "${pvc.namespace}/${pvc.name}", "prod", "cache");
        Files.writeString(dir.resolve("from-first"), "1");
        // The PVC made again (a Retain volume's data taken up by a new PV) names the same directory.
        Pv second = createHostPath("pv-second", "${pvc.namespace}/${pvc.name}", "prod", "cache");
        Files.writeString(dir.resolve("from-second"), "2");
        kubelet.delete(first);
        assertEquals("2", Files.readString(dir.resolve("from-second")), "the directory another volume uses stays");
        kubelet.delete(second);
        assertFalse(Files.exists(dir), "it goes with the last volume that uses it, since Strata made it");

        // A directory that holds another volume's directory is not removed at all.
        Pv team = createHostPath("pv-team", "${pvc.namespace}", "team", "any");
        Pv db = createHostPath("pv-team-db", "${pvc.namespace}/${pvc.name}", "team", "db");
        Files.writeString(driver.hostRoot().resolve("team/db/rows"), "rows");
        assertRefused(Status.Code.FAILED_PRECONDITION, db.handle(), () -> kubelet.delete(team));
        assertEquals("rows", Files.readString(driver.hostRoot().resolve("team/db/rows")));
        assertTrue(kubelet.volumeIds().contains(team.handle()), "a refused delete changes nothing");
        kubelet.delete(db);
        kubelet.delete(team);
        assertFalse(Files.exists(driver.hostRoot().resolve("team")));
    }

    @Test
    void strataNamesUnderARootAreReserved() {
        List<String> before = kubelet.volumeIds();
        assertRefused(Status.Code.INVALID_ARGUMENT, "reserved", () -> createHostPath("pv-trash", ".strata-trash",
                "x", "y"));
        assertRefused(Status.Code.INVALID_ARGUMENT, "reserved", () -> createHostPath("pv-ns",
                "${pvc.namespace}/${pvc.name}", ".strata-trash", "y"));
        assertRefused(Status.Code.INVALID_ARGUMENT, "reserved", () -> kubelet.stage(
                Kubelet.existing("static-trash", driver.hostRoot().resolve(".strata-trash/x"))));
        assertEquals(before, kubelet.volumeIds());
    }

    @Test
    void aSingleFileVolumeUnstagesWhatItMountedWhateverTheHostPathBecame() throws Exception {
        Path file = Files.writeString(driver.hostRoot().resolve("motd"), "hello\n");
        Pv pv = Kubelet.existing("motd", file);
        kubelet.stage(pv);
        Path target = kubelet.publish(pv, "pod-motd", true);
        assertEquals("hello\n", Files.readString(target));
        kubelet.unpublish(pv.handle(), target);
        // The file becomes a directory on the host while the volume is staged.
        Files.delete(file);
        Files.createDirectory(file);
        kubelet.unstage(pv);
        assertEquals(List.of(), DriverProcess.mountsUnder(kubelet.dir()), "the file's mount was undone");
    }

    @Test
    void targetsThroughAPlantedLinkOrInsideStrataAreRefused() throws Exception {
        Pv pv = kubelet.create("targets", "dir");
        kubelet.stage(pv);
        // A directory anyone may write, as /tmp, where another user planted a link to the host.
        Path shared = Files.createDirectories(driver.root().resolve("shared"));
        Posix.chmod(shared, 01777);
        Path planted = Files.createSymbolicLink(shared.resolve("pod"), decoy.dir());
        Posix.lchown(planted, 65534, 65534);
        for (Path target : List.of(planted.resolve("mount"), driver.dataDir().resolve("records/node/mount"),
                kubelet.staging(pv).resolve("inside"), driver.hostRoot().resolve("target"))) {
            assertRefused(Status.Code.INVALID_ARGUMENT, "target_path", () -> driver.node().nodePublishVolume(
                    NodePublishVolumeRequest.newBuilder().setVolumeId(pv.handle())
                            .setStagingTargetPath(kubelet.staging(pv).toString()).setTargetPath(target.toString())
                            .setVolumeCapability(Kubelet.capability("dir")).build()));
        }
        assertFalse(Files.exists(driver.dataDir().resolve("records/node/mount"), LinkOption.NOFOLLOW_LINKS));
        Path ownFilesystem = driver.dataDir().resolve("engines/dir/volumes").resolve(pv.handle()); // its size limit
        assertEquals(List.of(kubelet.staging(pv)), DriverProcess.mountsUnder(driver.root()).stream()
                .filter(p -> !p.equals(ownFilesystem)).toList(), "only the staging mount");
    }
}
