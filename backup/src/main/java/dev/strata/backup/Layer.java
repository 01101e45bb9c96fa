package dev.strata.backup;

import java.nio.file.Path;

/**
 * One read-only layer of an overlay snapshot, to back up. A target stores a layer once, by its
 * content, as the backup {@code layer-ID} (the ID of its entries, keyed as chunk IDs are): two
 * snapshots, or two clones of one snapshot, that share a layer share that backup.
 *
 * @param key what the node knows this layer by while it stays as it is (its layers never change
 *     once written): a backup that finds the key among the layers of a backup it is told of reuses
 *     that layer's backup without reading the layer again
 * @param dir the layer's directory
 */
public record Layer(String key, Path dir) {}
