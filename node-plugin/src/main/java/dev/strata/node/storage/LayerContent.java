package dev.strata.node.storage;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSummary;
import dev.strata.backup.Layer;
import dev.strata.backup.LayerMarks;
import dev.strata.backup.Manifest;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.LayeredSnapshots;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An overlay snapshot backed up layer by layer, each layer stored once per target by its content:
 * the layers the parent's backup, or another stored snapshot's of this node, already names are not
 * read again (a clone's base), and a layer some other backup stored is read but not stored again.
 * A restore makes only the layers the node lacks, and shares them.
 */
record LayerContent(LayeredSnapshots layered) implements SnapshotContent, LayerMarks {
    @Override
    public BackupSummary backUp(BackupRepository repository, SnapshotRecord snapshot, Map<String, String> labels,
            SnapshotRecord parent, List<String> alike) throws IOException {
        Set<String> known = new LinkedHashSet<>(); // the parent's layers first: most are its
        if (parent != null) {
            known.add(parent.backup().name());
        }
        known.addAll(alike);
        return layered.readLayers(snapshot.id(), layers -> repository.backupLayers(
                layers.stream().map(l -> new Layer(l.key(), l.dir())).toList(), snapshot.backup().name(), labels,
                List.copyOf(known), this));
    }

    @Override
    public BackupSummary restore(BackupRepository repository, String name, VolumeRecord volume) throws IOException {
        Manifest manifest = repository.manifest(name); // read once: its layers are named, then its summary told
        layered.fillVolume(volume, BackupRepository.layersOf(manifest),
                (id, into) -> repository.restoreLayer(id, into, this));
        return manifest.summary();
    }

    @Override
    public boolean isOpaque(Path directory) throws IOException {
        return layered.isOpaque(directory);
    }

    @Override
    public void makeWhiteout(Path directory, String name) throws IOException {
        layered.makeWhiteout(directory, name);
    }

    @Override
    public void makeOpaque(Path directory) throws IOException {
        layered.makeOpaque(directory);
    }
}
