package dev.strata.node.engine;

import dev.strata.common.model.VolumeRecord;

/**
 * An engine whose volumes may also be named by a handle the admin wrote into a PV, with no record
 * behind it (hostpath's statically provisioned volumes, whose handle is a host path). The node
 * resolves such a handle through the engine that claims it, so that no caller names the engine.
 */
public interface StaticVolumes {
    /** Whether {@code volumeId} is such a handle rather than one of Strata's IDs. */
    boolean claims(String volumeId);

    /** The ID that stands for the handle, for the node's mount records and locks. */
    String idOf(String handle);

    /** The record that stands for the handle; NOT_FOUND when what it names does not exist. */
    VolumeRecord resolve(String handle);
}
