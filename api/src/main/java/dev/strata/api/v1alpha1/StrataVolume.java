package dev.strata.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One volume, cluster-scoped, named by its CSI volume ID (derived from the CSI request name, so a
 * retried CreateVolume finds it). The controller plugin writes the spec; the node named in the spec
 * makes the storage and writes the status. The node's finalizer keeps it until the storage is gone.
 */
@AdditionalPrinterColumn(name = "Node", jsonPath = ".spec.node", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Engine", jsonPath = ".spec.engine", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Bytes", jsonPath = ".status.capacityBytes", type = AdditionalPrinterColumn.Type.INTEGER)
@Group(Resources.GROUP)
@Version(Resources.VERSION)
@Kind("StrataVolume")
@Plural("stratavolumes")
@ShortNames("svol")
public class StrataVolume extends CustomResource<StrataVolumeSpec, StrataVolumeStatus> {
    @Override
    protected StrataVolumeStatus initStatus() {
        return new StrataVolumeStatus();
    }
}
