package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThinDevicesTest {
    @TempDir
    Path tmp;

    @Test
    void aNoteWrittenBeforeEncryptionExistedReadsAsAPlainDevice() throws Exception {
        ThinDevices notes = new ThinDevices(tmp.resolve("volumes"));
        Files.writeString(tmp.resolve("volumes").resolve("vol-old"),
                "{\"thinId\":7,\"sectors\":8192,\"fsType\":\"ext4\",\"ready\":true}");
        assertEquals(new ThinDevice(7, 8192, "ext4", true, false, false, false), notes.get("vol-old").orElseThrow());
    }

    @Test
    void anEncryptedDevicesStateSurvivesItsNote() throws Exception {
        ThinDevices notes = new ThinDevices(tmp.resolve("volumes"));
        ThinDevice device = ThinDevice.plain(new ThinIds(tmp.resolve("next-thin-id")).next(), 8192, "xfs").asEncrypted(true, false).asReady();
        notes.put("vol-new", device);
        assertEquals(device, notes.get("vol-new").orElseThrow());
        ThinDevice formatted = device.asFormatted().withSectors(16384).withFilesystemBehind(true);
        notes.put("vol-new", formatted);
        assertEquals(new ThinDevice(1, 16384, "xfs", true, true, false, true), notes.get("vol-new").orElseThrow());
    }

    @Test
    void aNoteANewerReleaseWroteStillReadsAfterARollBack() throws Exception {
        ThinDevices notes = new ThinDevices(tmp.resolve("volumes"));
        Files.writeString(tmp.resolve("volumes").resolve("vol-newer"), "{\"thinId\":9,\"sectors\":4096,"
                + "\"fsType\":\"xfs\",\"ready\":true,\"aFieldOfALaterRelease\":{\"x\":1}}");
        assertEquals(Map.of("vol-newer", new ThinDevice(9, 4096, "xfs", true, false, false, false)), notes.all());
    }
}
