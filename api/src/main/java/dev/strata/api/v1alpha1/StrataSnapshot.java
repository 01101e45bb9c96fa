package dev.strata.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One snapshot, cluster-scoped, named by its CSI snapshot ID. It lives on the node of its source
 * volume, which takes it and reports it ready; the node's finalizer keeps it until it is deleted there.
 * With a {@code backupTarget} parameter the node also stores it off the node, and reports it ready to
 * use only once that backup is stored.
 */
@AdditionalPrinterColumn(name = "Node", jsonPath = ".spec.node", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Source", jsonPath = ".spec.sourceVolume", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.readyToUse", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Bytes", jsonPath = ".status.sizeBytes", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Backup", jsonPath = ".status.backupPhase", type = AdditionalPrinterColumn.Type.STRING)
@Group(Resources.GROUP)
@Version(Resources.VERSION)
@Kind("StrataSnapshot")
@Plural("stratasnapshots")
@ShortNames("ssnap")
public class StrataSnapshot extends CustomResource<StrataSnapshotSpec, StrataSnapshotStatus> {
    @Override
    protected StrataSnapshotStatus initStatus() {
        return new StrataSnapshotStatus();
    }
}
