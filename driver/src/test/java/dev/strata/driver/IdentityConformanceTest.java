package dev.strata.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.csi.v1.GetPluginCapabilitiesRequest;
import dev.strata.csi.v1.GetPluginInfoRequest;
import dev.strata.csi.v1.GetPluginInfoResponse;
import dev.strata.csi.v1.PluginCapability;
import dev.strata.csi.v1.PluginCapability.Service.Type;
import dev.strata.csi.v1.ProbeRequest;
import dev.strata.csi.v1.ProbeResponse;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class IdentityConformanceTest {
    @RegisterExtension
    final CsiHarness csi = new CsiHarness();

    @Test
    void pluginInfoNamesTheDriverAndItsVersion() {
        GetPluginInfoResponse info = csi.identity().getPluginInfo(GetPluginInfoRequest.getDefaultInstance());
        assertEquals("strata.csi.dev", info.getName());
        assertFalse(info.getVendorVersion().isBlank(), "vendor_version is empty");
        // where stratactl finds the driver's records of mounts and snapshot names
        assertEquals(csi.dataDir().toString(), info.getManifestOrThrow("strata.csi.dev/data-dir"));
    }

    @Test
    void capabilitiesOfferControllerGroupControllerAndTopology() {
        Set<Type> services = csi.identity().getPluginCapabilities(GetPluginCapabilitiesRequest.getDefaultInstance())
                .getCapabilitiesList().stream()
                .filter(PluginCapability::hasService)
                .map(c -> c.getService().getType())
                .collect(Collectors.toSet());
        assertTrue(services.containsAll(Set.of(Type.CONTROLLER_SERVICE, Type.GROUP_CONTROLLER_SERVICE,
                Type.VOLUME_ACCESSIBILITY_CONSTRAINTS)), "services: " + services);
    }

    @Test
    void probeIsReadyOnceStarted() {
        ProbeResponse probe = csi.identity().probe(ProbeRequest.getDefaultInstance());
        assertTrue(probe.hasReady() && probe.getReady().getValue(), "probe: " + probe);
    }
}
