package dev.strata.common.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.csi.v1.CreateSnapshotRequest;
import dev.strata.csi.v1.CreateVolumeRequest;
import dev.strata.csi.v1.NodePublishVolumeRequest;
import dev.strata.csi.v1.ProbeRequest;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class CallLoggingInterceptorTest {
    @Test
    void theDurationReadsAsPercentTwoFWould() {
        long[] samples = {0, 1, 4_999, 5_000, 9_999, 10_000, 94_999, 995_000, 1_000_000, 12_345_678, 999_994_999,
                999_995_000, 86_400_000_000_000L};
        for (long nanos : samples) {
            String expected = new java.math.BigDecimal(nanos).movePointLeft(6)
                    .setScale(2, java.math.RoundingMode.HALF_UP).toPlainString();
            assertEquals(expected, CallLoggingInterceptor.millis(nanos), nanos + " ns");
        }
        assertEquals(String.format(Locale.ROOT, "%.2f", 12.345678), CallLoggingInterceptor.millis(12_345_678));
    }

    @Test
    void theSubjectNamesTheObjectsACallIsAbout() {
        assertEquals("volume_id=v1 ", CallLoggingInterceptor.subject(NodePublishVolumeRequest.newBuilder()
                .setVolumeId("v1").setTargetPath("/t").build()));
        assertEquals("source_volume_id=v1 name=s1 ", CallLoggingInterceptor.subject(CreateSnapshotRequest
                .newBuilder().setSourceVolumeId("v1").setName("s1").build()));
        assertEquals("name=a\\x0ab ", CallLoggingInterceptor.subject(CreateVolumeRequest.newBuilder()
                .setName("a\nb").build()), "a value a caller sent is escaped");
        assertEquals("", CallLoggingInterceptor.subject(ProbeRequest.getDefaultInstance()));
        assertEquals("", CallLoggingInterceptor.subject(CreateVolumeRequest.getDefaultInstance()),
                "empty fields are left out");
    }
}
