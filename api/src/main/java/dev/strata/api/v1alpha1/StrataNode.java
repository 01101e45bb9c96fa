package dev.strata.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One node plugin's storage, cluster-scoped and named by the CSI node ID: its engines, pools, free
 * space and health, which the controller plugin reads to place volumes and answer GetCapacity.
 */
@AdditionalPrinterColumn(name = "Healthy", jsonPath = ".status.healthy", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Version", jsonPath = ".status.pluginVersion", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Heartbeat", jsonPath = ".status.heartbeatTime", type = AdditionalPrinterColumn.Type.DATE)
@Group(Resources.GROUP)
@Version(Resources.VERSION)
@Kind("StrataNode")
@Plural("stratanodes")
@ShortNames("snode")
public class StrataNode extends CustomResource<StrataNodeSpec, StrataNodeStatus> {
    @Override
    protected StrataNodeStatus initStatus() {
        return new StrataNodeStatus();
    }
}
