package dev.strata.node.storage;

import dev.strata.common.LockTable;

/**
 * A node's storage as {@link StorageOpener} opens it, taken apart once by whoever starts the driver:
 * the provisioner (controller calls and the node agent), the node's side of its volumes (the Node
 * service), its engines (for those who report on them: metrics and the node's status), and the
 * table of per-object locks all of them take (a test holds one to see a busy volume answer ABORTED).
 */
public record NodeStorage(LocalStorage provisioner, NodeVolumes volumes, Engines engines, LockTable locks) {
    /** Stops uploads and lets every engine finish its background work; called after the socket stopped taking calls. */
    public void close() throws InterruptedException {
        provisioner.close();
        engines.close();
    }
}
