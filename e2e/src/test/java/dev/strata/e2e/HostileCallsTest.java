package dev.strata.e2e;

import static dev.strata.e2e.HostileInlineVolumesTest.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.ControllerGrpc;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.IdentityGrpc;
import dev.strata.csi.v1.ListVolumesRequest;
import dev.strata.csi.v1.ListVolumesResponse;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.ProbeRequest;
import dev.strata.node.sys.Posix;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Callers and local users who are not the CO (issue 12, findings 5, 8, 11, 12): the socket and the
 * data directory under any umask, names that would forge log lines, floods and malformed requests,
 * and a record that recovery cannot settle. The driver runs under umask 000 here, as every process
 * test starts it ({@code StrataProcess}).
 */
class HostileCallsTest extends E2eFixture {
    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void theSocketAndTheDataAreRootsAloneWhateverTheUmask() throws Exception {
        assertEquals("rw-------", mode(driver.socket()));
        assertEquals("rwx------", mode(driver.dataDir()));
        assertEquals("rwx------", mode(driver.dataDir().resolve("records")));
        Kubelet.Pv pv = kubelet.create("modes", "dir");
        // the volume's root has its own mode (what pods see), not the umask's 0777
        assertEquals("rwxr-xr-x", mode(driver.dataDir().resolve("engines/dir/volumes").resolve(pv.handle())));
    }

    @Test
    void anotherUserCannotConnect() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs /usr/bin/python3 to connect as nobody");
        Posix.chmod(driver.root(), 0711); // let nobody reach the socket file: only its mode may refuse
        Runc.Result r = Runc.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                "/usr/bin/python3", "-c", "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
                driver.socket().toString()));
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.stderr().contains("PermissionError"), r.toString());
    }

    @Test
    void namesAndValuesCannotForgeLogLinesOrMessages() throws Exception {
        String name = "evil\nINFO  [grpc-default-executor-0] dev.strata.rpc FORGED status=OK";
        String id = driver.controller().createVolume(CreateVolumeRequest.newBuilder().setName(name)
                .addVolumeCapabilities(Kubelet.capability("dir")).build()).getVolume().getVolumeId();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> driver.controller().createVolume(
                CreateVolumeRequest.newBuilder().setName("fine").putParameters("k\nFORGED", "v")
                        .addVolumeCapabilities(Kubelet.capability("dir")).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertFalse(e.getStatus().getDescription().contains("\n"), e.getStatus().getDescription());
        assertTrue(e.getStatus().getDescription().contains("k\\x0aFORGED"), e.getStatus().getDescription());
        List<String> log = driver.logTail().lines().toList();
        assertTrue(log.stream().noneMatch(l -> l.contains("FORGED") && !l.contains("\\x0a")), String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.contains("evil\\x0aINFO")), String.join("\n", log));
        kubelet.delete(new Kubelet.Pv(name, id, "dir"));
    }

    /**
     * Sixteen 4 MB requests at once (which once ran the driver's heap out): each is refused as too
     * big before it is read, and the driver goes on serving. They go over a connection of their own:
     * the refused streams' data stays counted against that connection's flow-control window, so a
     * client that floods spoils its own connection, not the driver.
     */
    @Test
    void oversizedRequestsAtOnceAreRefusedAndTheDriverStays() throws Exception {
        String huge = "x".repeat(4_000_000); // just under gRPC's default limit, as the audit sent them
        List<Status.Code> codes = driver.onNewConnection(channel -> {
            List<CompletableFuture<Status.Code>> calls = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                calls.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        ControllerGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).createVolume(
                                CreateVolumeRequest.newBuilder().setName(huge)
                                        .addVolumeCapabilities(Kubelet.capability("dir")).build());
                        return Status.Code.OK;
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode();
                    }
                }));
            }
            return calls.stream().map(CompletableFuture::join).toList();
        });
        assertEquals(java.util.Collections.nCopies(16, Status.Code.RESOURCE_EXHAUSTED), codes);
        assertTrue(IdentityGrpc.newBlockingStub(driver.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
                .probe(ProbeRequest.getDefaultInstance()).getReady().getValue(), "the driver still serves");
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    /** Sends {@code request} as it is to CreateVolume: bytes that need not be a valid message. */
    private Status.Code createVolumeRaw(byte[] request) {
        MethodDescriptor<byte[], byte[]> method = ControllerGrpc.getCreateVolumeMethod().toBuilder(BYTES, BYTES).build();
        try {
            ClientCalls.blockingUnaryCall(driver.channel(), method, CallOptions.DEFAULT.withDeadlineAfter(30,
                    TimeUnit.SECONDS), request);
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            assertTrue(e.getStatus().getDescription() != null && e.getStatus().getDescription().contains("request"),
                    e.getStatus().toString());
            return e.getStatus().getCode();
        }
    }

    @Test
    void malformedRequestsAreTheCallersError() {
        byte[] valid = CreateVolumeRequest.newBuilder().setName("malformed")
                .addVolumeCapabilities(Kubelet.capability("dir")).build().toByteArray();
        assertEquals(Status.Code.INVALID_ARGUMENT, createVolumeRaw(Arrays.copyOf(valid, valid.length - 3)), "truncated");
        // field 1 (name), length 2: 0xC3 0x28 is not UTF-8
        assertEquals(Status.Code.INVALID_ARGUMENT, createVolumeRaw(new byte[] {0x0a, 0x02, (byte) 0xc3, 0x28}),
                "not UTF-8");
        assertRefused(Status.Code.INVALID_ARGUMENT, "staging_target_path", () -> driver.node().nodeStageVolume(
                NodeStageVolumeRequest.newBuilder().setVolumeId("vol-x").setVolumeCapability(Kubelet.capability("dir"))
                        .setStagingTargetPath("/var/tmp/" + "x".repeat(300) + "/globalmount").build()));
        assertTrue(IdentityGrpc.newBlockingStub(driver.channel()).probe(ProbeRequest.getDefaultInstance()).getReady()
                .getValue());
    }

    @Test
    void aRecordRecoveryCannotSettleIsReportedAndTheDriverServes() throws Exception {
        Kubelet.Pv pv = kubelet.create("unsettled", "dir");
        driver.kill9();
        // The record says the volume was being deleted by an engine this node no longer has (its
        // thin pool is gone from the options): recovery cannot finish that.
        Path record = driver.dataDir().resolve("records/volumes").resolve(pv.handle() + ".json");
        Files.writeString(record, Files.readString(record).replace("\"READY\"", "\"DELETING\"")
                .replace("\"engine\":\"dir\"", "\"engine\":\"thin\""));
        driver.restart();
        ListVolumesResponse listed = driver.controller().listVolumes(ListVolumesRequest.getDefaultInstance());
        var entry = listed.getEntriesList().stream().filter(e -> e.getVolume().getVolumeId().equals(pv.handle()))
                .findFirst().orElseThrow(() -> new AssertionError("the unsettled volume is listed: " + listed));
        assertTrue(entry.getStatus().getVolumeCondition().getAbnormal(), entry.toString());
        assertTrue(entry.getStatus().getVolumeCondition().getMessage().contains("left DELETING"), entry.toString());
        Kubelet.Pv other = kubelet.create("after-recovery", "dir");
        assertTrue(kubelet.volumeIds().contains(other.handle()), "the driver serves the rest");
        // Once the admin fixes the record (here: puts the engine back), a delete finishes the job.
        driver.kill9();
        Files.writeString(record, Files.readString(record).replace("\"engine\":\"thin\"", "\"engine\":\"dir\""));
        driver.restart();
        assertFalse(kubelet.volumeIds().contains(pv.handle()), "recovery removed it this time");
    }
}
