package dev.strata.e2e;

import static dev.strata.e2e.Runc.Mount.rw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.DeleteSnapshotRequest;
import dev.strata.csi.v1.VolumeContentSource;
import dev.strata.e2e.Kubelet.Pv;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Docker's volume scenarios (docs.docker.com/engine/storage/volumes) on each engine they apply to,
 * with real containers mounting what Strata published into a pod's directory. Every scenario asserts
 * on what the containers saw. Subclasses say which engines and which driver.
 */
abstract class VolumeScenarios extends E2eFixture {
    /** Engines for the scenarios on PVs: data volumes, sharing, snapshots, tar backups. */
    abstract Stream<String> engines();

    /** The engine of inline volumes: the driver's --ephemeral-engine (a pod cannot choose one). */
    abstract String inlineEngine();

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aDataVolumeOutlivesItsContainersUntilItIsDeleted(String engine) throws Exception {
        Pv pv = kubelet.create("data-" + engine, engine);
        kubelet.stage(pv);
        Path first = kubelet.publish(pv, "pod-writer", false);
        assertSaw("hello\n", runc.run("writer", "echo hello > /data/greeting && mkdir /data/sub"
                + " && echo nested > /data/sub/file && cat /data/greeting", rw(first, "/data")));
        // the container is gone (run deletes it); so is its pod
        kubelet.unpublish(pv.handle(), first);
        kubelet.unstage(pv);
        assertTrue(kubelet.volumeIds().contains(pv.handle()), "the volume outlives its pod");

        kubelet.stage(pv);
        Path second = kubelet.publish(pv, "pod-reader", false);
        assertSaw("hello\nnested\n", runc.run("reader", "cat /data/greeting /data/sub/file", rw(second, "/data")));
        kubelet.unpublish(pv.handle(), second);
        kubelet.unstage(pv);
        kubelet.delete(pv);
        assertFalse(kubelet.volumeIds().contains(pv.handle()));
        assertNothingLeftOf(pv.handle());
        assertFalse(Files.exists(driver.hostRoot().resolve(pv.name())), "a hostpath volume's directory is gone");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void twoContainersShareOneVolumeAndSeeEachOthersWritesAtOnce(String engine) throws Exception {
        Pv pv = kubelet.create("shared-" + engine, engine);
        kubelet.stage(pv);
        // Docker's data-only container and --volumes-from: two pods, two containers, one volume. Each
        // appends a line, then waits until it sees the other's line of the same round; each prints
        // what it saw of the other. (Foreground containers: runc exec cannot work in the VM's chroot.)
        Path a = kubelet.publish(pv, "pod-a", false);
        Path b = kubelet.publish(pv, "pod-b", false);
        CompletableFuture<Runc.Result> first = CompletableFuture.supplyAsync(() -> pingPong("a", "b", a));
        Runc.Result second = pingPong("b", "a", b);
        assertSaw("a-0\na-1\na-2\n", second);
        assertSaw("b-0\nb-1\nb-2\n", first.get(150, TimeUnit.SECONDS));
        kubelet.unpublish(pv.handle(), kubelet.target(pv, "pod-a"));
        kubelet.unpublish(pv.handle(), kubelet.target(pv, "pod-b"));
        kubelet.unstage(pv);
        kubelet.delete(pv);
        assertNothingLeftOf(pv.handle());
    }

    private Runc.Result pingPong(String me, String other, Path volume) {
        try {
            return runc.run("app-" + me, "for i in 0 1 2; do echo " + me + "-$i >> /data/from-" + me + "; until grep -qx "
                    + other + "-$i /data/from-" + other + " 2>/dev/null; do usleep 10000; done; done; cat /data/from-"
                    + other, rw(volume, "/data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines the writer has written before the snapshot. */
    private static final int WRITTEN_BEFORE = 50;

    /**
     * Appends numbered lines and keeps a counter file replaced by rename, as fast as it can: the
     * temporary file comes and goes while dir, overlay and hostpath copy the tree, which a snapshot
     * must take in its stride (it once failed CreateSnapshot with "cp: cannot stat").
     */
    static final String WRITER = "echo before > /data/marker; i=0; while :; do echo line-$i >> /data/log;"
            + " echo $i > /data/n.tmp; mv /data/n.tmp /data/n; i=$((i+1)); done";
    /**
     * Checks a copy of what {@link #WRITER} wrote: the marker, the log's lines numbered without a gap
     * or a torn line, a counter that is a whole number; prints the marker and the log's line count.
     */
    static final String CHECK = "cat /data/marker && awk '$0 != \"line-\" NR-1 { print \"bad line \" NR \": \" $0;"
            + " exit 1 } END { print NR }' /data/log && n=$(cat /data/n) && case $n in ''|*[!0-9]*) exit 2;; esac";

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aSnapshotTakenWhileAContainerWritesRestoresAConsistentCopy(String engine) throws Exception {
        Pv pv = kubelet.create("db-" + engine, engine);
        kubelet.stage(pv);
        Path db = kubelet.publish(pv, "pod-db", false);
        runc.start("db", WRITER, rw(db, "/data"));
        Path log = db.resolve("log"); // what the writer wrote so far, read by the host in the pod's volume
        await(() -> lines(log) >= WRITTEN_BEFORE, () -> "the writer wrote " + lines(log) + " lines");

        String snapshot = driver.controller().createSnapshot(CreateSnapshotRequest.newBuilder()
                .setName("db-backup-" + engine).setSourceVolumeId(pv.handle()).build()).getSnapshot().getSnapshotId();
        int afterSnapshot = lines(log);
        await(() -> lines(log) > afterSnapshot, () -> "the writer stopped at the snapshot");
        assertEquals("running", runc.status("db"));

        Pv restored = kubelet.create("db-restored-" + engine, engine, VolumeContentSource.newBuilder()
                .setSnapshot(VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId(snapshot)).build());
        kubelet.stage(restored);
        Runc.Result copy = runc.run("db-check", CHECK, rw(kubelet.publish(restored, "pod-check", false), "/data"));
        assertEquals(0, copy.exit(), copy::toString);
        String[] out = copy.stdout().split("\n");
        assertEquals("before", out[0], copy::toString);
        int copied = Integer.parseInt(out[1]);
        assertTrue(copied >= WRITTEN_BEFORE && copied <= afterSnapshot, "the copy has " + copied + " lines; the"
                + " volume had at least " + WRITTEN_BEFORE + " before the snapshot and " + afterSnapshot + " right after it");

        runc.delete("db");
        kubelet.unpublish(restored.handle(), kubelet.target(restored, "pod-check"));
        kubelet.unpublish(pv.handle(), kubelet.target(pv, "pod-db"));
        kubelet.unstage(restored);
        kubelet.unstage(pv);
        kubelet.delete(restored);
        driver.controller().deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshot).build());
        kubelet.delete(pv);
        assertNothingLeftOf(restored.handle());
        assertNothingLeftOf(snapshot);
        assertNothingLeftOf(pv.handle());
    }

    static int lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).size() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void aTarBackupThroughAHelperContainerRestoresIntoANewVolume(String engine) throws Exception {
        Path backup = Files.createDirectories(driver.root().resolve("backup-" + engine)); // docker's $(pwd)
        Pv pv = kubelet.create("dbstore-" + engine, engine);
        kubelet.stage(pv);
        Path data = kubelet.publish(pv, "pod-dbstore", false);
        assertSaw("", runc.run("dbstore", "mkdir /data/d && echo one > /data/d/one && echo two > /data/two"
                + " && ln -s two /data/link", rw(data, "/data")));
        // docker run --rm --volumes-from dbstore -v $(pwd):/backup busybox tar cvf /backup/backup.tar /dbdata
        assertSaw("", runc.run("backup", "tar cf /backup/backup.tar /data", rw(data, "/data"), rw(backup, "/backup")));
        assertTrue(Files.size(backup.resolve("backup.tar")) > 0);

        Pv copy = kubelet.create("dbstore2-" + engine, engine);
        kubelet.stage(copy);
        Path restored = kubelet.publish(copy, "pod-dbstore2", false);
        assertSaw("", runc.run("restore", "cd / && tar xf /backup/backup.tar", rw(restored, "/data"),
                rw(backup, "/backup")));
        assertSaw("one\ntwo\ntwo\n", runc.run("check", "cat /data/d/one /data/two && readlink /data/link",
                rw(restored, "/data")));

        kubelet.unpublish(pv.handle(), data);
        kubelet.unpublish(copy.handle(), restored);
        kubelet.unstage(pv);
        kubelet.unstage(copy);
        kubelet.delete(pv);
        kubelet.delete(copy);
        assertNothingLeftOf(pv.handle());
        assertNothingLeftOf(copy.handle());
    }

    /** The volumes the node holds, as the driver lists them (ListVolumes). */
    List<String> volumesOnNode() {
        return kubelet.volumeIds();
    }

    @Test
    void anInlineVolumeIsGoneWhenItsContainerEnds() throws Exception {
        String handle = "csi-e2e-inline"; // kubelet's: csi- and a hash
        List<String> before = volumesOnNode();
        Path scratch = kubelet.publishInline(handle, "pod-inline", Map.of("size", "64Mi"));
        List<String> made = new ArrayList<>(volumesOnNode());
        made.removeAll(before);
        assertEquals(1, made.size(), "one volume made for the pod: " + made);
        // the node's record (a cluster's controller does not list inline volumes)
        assertEquals(inlineEngine(), new com.fasterxml.jackson.databind.ObjectMapper().readTree(driver.dataDir()
                .resolve("records/volumes").resolve(made.get(0) + ".json").toFile()).get("engine").asText(),
                "the node's engine, whatever the pod asks");
        assertSaw("scratch\n", runc.run("scratch", "echo scratch > /data/x && cat /data/x", rw(scratch, "/data")));
        // the container ended; the pod goes
        kubelet.unpublish(handle, scratch);
        assertFalse(Files.exists(scratch), "the pod's volume directory is gone");
        assertEquals(before, kubelet.volumeIds());
        assertNothingLeftOf(made.get(0));
    }
}
