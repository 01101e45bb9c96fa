package dev.strata.node.storage;

import dev.strata.backup.BackupRepository;
import dev.strata.backup.BackupSummary;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.DirectoryTrees;
import dev.strata.node.sys.FileHandle;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** A snapshot backed up file by file; files unchanged since the parent backup are not read again. */
record TreeContent(DirectoryTrees trees) implements SnapshotContent {
    @Override
    public BackupSummary backUp(BackupRepository repository, SnapshotRecord snapshot, Map<String, String> labels,
            SnapshotRecord parent, List<String> alike) throws IOException {
        return repository.backup(trees.snapshotTree(snapshot.id()), snapshot.backup().name(), labels,
                parent == null ? null : parent.backup().name());
    }

    @Override
    public BackupSummary restore(BackupRepository repository, String name, VolumeRecord volume) throws IOException {
        return trees.fillVolume(volume.id(), tree -> {
            BackupSummary restored = repository.restore(name, tree);
            // The engine contract: what a call made is durable before its record says READY.
            FileHandle.syncFilesystem(tree);
            return restored;
        });
    }
}
