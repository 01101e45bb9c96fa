package dev.strata.e2e;

import static dev.strata.e2e.Runc.Mount.rw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.model.Ids;
import dev.strata.csi.v1.CreateVolumeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A pod author attacks through an inline volume's {@code volumeAttributes}, which kubelet passes on
 * untouched (issue 12, finding 1, 7, 10). Each attack fails with the code the CSI spec names, and
 * nothing of another tenant's or of the host changes. The node allows 2 inline volumes of at most
 * 256Mi here.
 */
class HostileInlineVolumesTest extends E2eFixture {
    private Decoy decoy;

    @Override
    String[] driverArgs() {
        return new String[] {"--ephemeral-max-volumes", "2", "--ephemeral-max-size", "256Mi"};
    }

    @BeforeEach
    void decoy() throws Exception {
        decoy = new Decoy();
    }

    @AfterEach
    void unchanged() {
        decoy.assertUnchanged();
        decoy.close();
    }

    static void assertRefused(Status.Code code, String named, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains(named), "should name " + named + ": " + e.getStatus());
    }

    @Test
    void inlineAttributesChooseNoEngineNoPathAndNoMkfsOptions() throws Exception {
        // Another tenant's hostpath volume, which the audit mounted read-write into its own pod.
        Path theirs = Files.createDirectories(driver.hostRoot().resolve("prod/db"));
        Files.writeString(theirs.resolve("table"), "their rows");
        List<String> before = kubelet.volumeIds();
        // Each attack as the audit ran it; the refusal names the first key that may not be set.
        List<Map<String, String>> attacks = List.of(
                Map.of("engine", "hostpath"),
                Map.of("pathPattern", "prod/db"),
                Map.of("root", decoy.dir().toString()),
                Map.of("mkfsOptions", "-d var"),
                Map.of("mkfsOptions", "victimfile -M"),
                Map.of("uid", "0"),
                Map.of("mode", "4777"),
                // another tenant's backup, restored into the attacker's pod
                Map.of("fromBackup", "file:///var/lib/strata-backups#snap-00000000000000000000000000000000"));
        for (Map<String, String> attack : attacks) {
            String key = attack.keySet().iterator().next();
            assertRefused(Status.Code.INVALID_ARGUMENT, "volume_context.\"" + key + "\"",
                    () -> kubelet.publishInline("csi-attack", "pod-attacker", attack));
        }
        assertRefused(Status.Code.INVALID_ARGUMENT, "may not set it", () -> kubelet.publishInline("csi-attack",
                "pod-attacker", Map.of("engine", "hostpath", "pathPattern", "prod/db", "size", "1Gi")));
        assertEquals(before, kubelet.volumeIds(), "no volume was made");
        assertEquals("their rows", Files.readString(theirs.resolve("table")));
        assertEquals(List.of(), DriverProcess.mountsUnder(kubelet.dir()), "nothing is mounted");
    }

    @Test
    void anInlineVolumeHasTheNodesEngineAndAHardSize() throws Exception {
        Path scratch = kubelet.publishInline("csi-scratch", "pod-scratch", Map.of("size", "64Mi"));
        // overlay, the default --ephemeral-engine: the pod cannot write past its size
        Runc.Result fill = runc.run("filler", "dd if=/dev/zero of=/data/fill bs=1M count=100 2>&1; echo exit=$?",
                rw(scratch, "/data"));
        assertTrue(fill.stdout().contains("No space left on device"), fill.toString());
        kubelet.unpublish("csi-scratch", scratch);
    }

    @Test
    void sizesAndCountsAreCapped() throws Exception {
        List<String> before = kubelet.volumeIds();
        assertRefused(Status.Code.INVALID_ARGUMENT, "volume_context.size",
                () -> kubelet.publishInline("csi-huge", "pod-huge", Map.of("size", "250G")));
        assertRefused(Status.Code.INVALID_ARGUMENT, "volume_context.size",
                () -> kubelet.publishInline("csi-negative", "pod-neg", Map.of("size", "-1")));
        Path one = kubelet.publishInline("csi-1", "pod-1", Map.of("size", "32Mi"));
        Path two = kubelet.publishInline("csi-2", "pod-2", Map.of());
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "--ephemeral-max-volumes",
                () -> kubelet.publishInline("csi-3", "pod-3", Map.of("size", "32Mi")));
        assertEquals(before.size() + 2, kubelet.volumeIds().size(), "the refused one made nothing");
        kubelet.unpublish("csi-1", one);
        Path three = kubelet.publishInline("csi-3", "pod-3", Map.of("size", "32Mi"));
        kubelet.unpublish("csi-2", two);
        kubelet.unpublish("csi-3", three);
        assertEquals(before, kubelet.volumeIds());
    }

    @Test
    void aPublishThatFailsLeavesNoScratchVolume() throws Exception {
        List<String> before = kubelet.volumeIds();
        Path target = kubelet.target(new Kubelet.Pv("csi-broken", "csi-broken", ""), "pod-broken");
        Files.createDirectories(target.getParent());
        Files.writeString(target, "not a directory"); // the mount cannot go there
        assertRefused(Status.Code.INVALID_ARGUMENT, "target_path", () -> driver.node().nodePublishVolume(
                dev.strata.csi.v1.NodePublishVolumeRequest.newBuilder().setVolumeId("csi-broken")
                        .setTargetPath(target.toString()).setVolumeCapability(Kubelet.capability("overlay"))
                        .putVolumeContext(Kubelet.EPHEMERAL, "true").build()));
        assertEquals(before, kubelet.volumeIds(), "the scratch volume was taken back");
        assertNothingLeftOf(Ids.volumeId(Ids.INLINE_VOLUME_PREFIX + "csi-broken"));
        assertEquals("not a directory", Files.readString(target));
    }

    @Test
    void aCreateVolumeNamedLikeAnInlineVolumeIsRefused() {
        List<String> before = kubelet.volumeIds();
        assertRefused(Status.Code.INVALID_ARGUMENT, "name", () -> driver.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("ephemeral:csi-victim")
                        .addVolumeCapabilities(Kubelet.capability("dir")).build()));
        assertEquals(before, kubelet.volumeIds());
    }
}
