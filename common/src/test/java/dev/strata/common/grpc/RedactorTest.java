package dev.strata.common.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldOptions;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.CsiProto;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.NodeStageVolumeRequest;
import dev.strata.csi.v1.VolumeCapability;
import dev.strata.csi.v1.VolumeContentSource;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactorTest {
    private static final VolumeCapability MOUNT_RWO = VolumeCapability.newBuilder()
            .setMount(VolumeCapability.MountVolume.newBuilder().addMountFlags("noatime"))
            .setAccessMode(VolumeCapability.AccessMode.newBuilder()
                    .setMode(VolumeCapability.AccessMode.Mode.SINGLE_NODE_WRITER))
            .build();

    private static String text(Message m) {
        return TextFormat.printer().shortDebugString(m);
    }

    @Test
    void createVolumeSecretsAreStrippedAndTheRestKept() {
        CreateVolumeRequest req = CreateVolumeRequest.newBuilder()
                .setName("pvc-1")
                .putParameters("engine", "dir")
                .putSecrets("password", "hunter2")
                .putSecrets("token", "s3cr3t")
                .addVolumeCapabilities(MOUNT_RWO)
                .setVolumeContentSource(VolumeContentSource.newBuilder().setSnapshot(
                        VolumeContentSource.SnapshotSource.newBuilder().setSnapshotId("snap-1")))
                .build();
        CreateVolumeRequest redacted = (CreateVolumeRequest) Redactor.redact(req);
        assertEquals(0, redacted.getSecretsCount());
        assertFalse(text(redacted).contains("hunter2"));
        assertFalse(text(redacted).contains("s3cr3t"));
        assertEquals(req.toBuilder().clearSecrets().build(), redacted);
        assertEquals("pvc-1", redacted.getName());
        assertEquals(Map.of("engine", "dir"), redacted.getParametersMap());
        assertEquals("snap-1", redacted.getVolumeContentSource().getSnapshot().getSnapshotId());
        // the original is untouched
        assertEquals("hunter2", req.getSecretsOrThrow("password"));
    }

    @Test
    void nodeStageSecretsAreStripped() {
        NodeStageVolumeRequest req = NodeStageVolumeRequest.newBuilder()
                .setVolumeId("vol-1")
                .setStagingTargetPath("/var/lib/kubelet/staging/vol-1")
                .setVolumeCapability(MOUNT_RWO)
                .putPublishContext("strata.csi.dev/engine", "dir")
                .putVolumeContext("k", "v")
                .putSecrets("password", "hunter2")
                .build();
        NodeStageVolumeRequest redacted = (NodeStageVolumeRequest) Redactor.redact(req);
        assertEquals(req.toBuilder().clearSecrets().build(), redacted);
        assertFalse(text(redacted).contains("hunter2"));
        assertTrue(text(redacted).contains("/var/lib/kubelet/staging/vol-1"));
    }

    @Test
    void nodePublishSecretsAreStripped() {
        NodePublishVolumeRequest req = NodePublishVolumeRequest.newBuilder()
                .setVolumeId("vol-1")
                .setStagingTargetPath("/s")
                .setTargetPath("/t")
                .setReadonly(true)
                .setVolumeCapability(MOUNT_RWO)
                .putSecrets("password", "hunter2")
                .build();
        NodePublishVolumeRequest redacted = (NodePublishVolumeRequest) Redactor.redact(req);
        assertEquals(req.toBuilder().clearSecrets().build(), redacted);
        assertTrue(redacted.getReadonly());
    }

    @Test
    void messageWithoutSecretsComesBackAsTheSameInstance() {
        CreateVolumeRequest req = CreateVolumeRequest.newBuilder().setName("pvc-1").putParameters("a", "b")
                .addVolumeCapabilities(MOUNT_RWO).build();
        assertSame(req, Redactor.redact(req));
        NodeStageVolumeRequest empty = NodeStageVolumeRequest.getDefaultInstance();
        assertSame(empty, Redactor.redact(empty));
        assertSame(MOUNT_RWO, Redactor.redact(MOUNT_RWO));
    }

    /*
     * No csi.v1 message carries a secret below the top level, so the nested cases use a message type
     * built here: Outer { string keep; Inner inner; repeated Inner items; string pin [csi_secret]; }
     * Inner { string token [csi_secret]; string label; }.
     */
    private static final Descriptor OUTER;
    private static final Descriptor INNER;

    static {
        FieldOptions secret = FieldOptions.newBuilder().setExtension(CsiProto.csiSecret, true).build();
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName("redactor_test.proto")
                .setPackage("strata.test")
                .setSyntax("proto3")
                .addMessageType(DescriptorProto.newBuilder().setName("Inner")
                        .addField(string("token", 1).setOptions(secret))
                        .addField(string("label", 2)))
                .addMessageType(DescriptorProto.newBuilder().setName("Outer")
                        .addField(string("keep", 1))
                        .addField(message("inner", 2, ".strata.test.Inner", false))
                        .addField(message("items", 3, ".strata.test.Inner", true))
                        .addField(string("pin", 4).setOptions(secret))
                        .addField(message("sealed", 5, ".strata.test.Inner", false).setOptions(secret))
                        .addField(FieldDescriptorProto.newBuilder().setName("key").setNumber(6)
                                .setType(FieldDescriptorProto.Type.TYPE_BYTES)
                                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL).setOptions(secret)))
                .build();
        try {
            FileDescriptor fd = FileDescriptor.buildFrom(file, new FileDescriptor[] {CsiProto.getDescriptor()});
            INNER = fd.findMessageTypeByName("Inner");
            OUTER = fd.findMessageTypeByName("Outer");
        } catch (com.google.protobuf.Descriptors.DescriptorValidationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static FieldDescriptorProto.Builder string(String name, int number) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number)
                .setType(FieldDescriptorProto.Type.TYPE_STRING).setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
    }

    private static FieldDescriptorProto.Builder message(String name, int number, String type, boolean repeated) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number)
                .setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(type)
                .setLabel(repeated ? FieldDescriptorProto.Label.LABEL_REPEATED : FieldDescriptorProto.Label.LABEL_OPTIONAL);
    }

    private static DynamicMessage inner(String token, String label) {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(INNER);
        if (token != null) {
            b.setField(INNER.findFieldByName("token"), token);
        }
        return b.setField(INNER.findFieldByName("label"), label).build();
    }

    @Test
    void nestedSecretsAreReplacedAtAnyDepth() {
        assertTrue(INNER.findFieldByName("token").getOptions().getExtension(CsiProto.csiSecret),
                "test descriptor must carry csi_secret");
        DynamicMessage outer = DynamicMessage.newBuilder(OUTER)
                .setField(OUTER.findFieldByName("keep"), "visible")
                .setField(OUTER.findFieldByName("pin"), "1234")
                .setField(OUTER.findFieldByName("inner"), inner("hunter2", "first"))
                .addRepeatedField(OUTER.findFieldByName("items"), inner(null, "plain"))
                .addRepeatedField(OUTER.findFieldByName("items"), inner("swordfish", "second"))
                .build();
        Message redacted = Redactor.redact(outer);
        String shown = text(redacted);
        assertFalse(shown.contains("hunter2"), shown);
        assertFalse(shown.contains("swordfish"), shown);
        assertFalse(shown.contains("1234"), shown);
        assertTrue(shown.contains("visible") && shown.contains("first") && shown.contains("second")
                && shown.contains("plain"), shown);
        assertEquals(Redactor.PLACEHOLDER, redacted.getField(OUTER.findFieldByName("pin")));
        Message innerRedacted = (Message) redacted.getField(OUTER.findFieldByName("inner"));
        assertEquals(Redactor.PLACEHOLDER, innerRedacted.getField(INNER.findFieldByName("token")));
        assertEquals(2, redacted.getRepeatedFieldCount(OUTER.findFieldByName("items")));
    }

    @Test
    void secretBytesFieldIsCleared() {
        DynamicMessage outer = DynamicMessage.newBuilder(OUTER)
                .setField(OUTER.findFieldByName("key"), com.google.protobuf.ByteString.copyFromUtf8("hunter2"))
                .build();
        Message redacted = Redactor.redact(outer);
        assertFalse(text(redacted).contains("hunter2"), text(redacted));
    }

    /*
     * A secret field of message type (none in csi.v1 today) used to make redact() throw:
     * FieldDescriptor.getDefaultValue() is unsupported for message fields.
     */
    @Test
    void secretMessageFieldIsCleared() {
        DynamicMessage outer = DynamicMessage.newBuilder(OUTER)
                .setField(OUTER.findFieldByName("keep"), "visible")
                .setField(OUTER.findFieldByName("sealed"), inner(null, "hunter2"))
                .build();
        Message redacted = Redactor.redact(outer);
        assertFalse(text(redacted).contains("hunter2"), text(redacted));
        assertTrue(text(redacted).contains("visible"), text(redacted));
    }

    @Test
    void nestedMessageWithoutSecretsIsTheSameInstance() {
        DynamicMessage outer = DynamicMessage.newBuilder(OUTER)
                .setField(OUTER.findFieldByName("keep"), "visible")
                .setField(OUTER.findFieldByName("inner"), inner(null, "first"))
                .addRepeatedField(OUTER.findFieldByName("items"), inner(null, "plain"))
                .build();
        assertSame(outer, Redactor.redact(outer));
        DynamicMessage withSecret = outer.toBuilder().setField(OUTER.findFieldByName("pin"), "1").build();
        assertNotSame(withSecret, Redactor.redact(withSecret));
    }
}
