package dev.strata.node.records;

import dev.strata.node.mount.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node's staging and publish records, reconciled with the kernel's mount table at start. */
public final class MountRecords {
    private static final Logger LOG = LoggerFactory.getLogger(MountRecords.class);
    private final RecordStore<MountRecord> store;

    public MountRecords(Path dir) throws IOException {
        this.store = RecordStore.crashOnly(dir, MountRecord.class, MountRecord::volumeId);
    }

    public MountRecord get(String volumeId) {
        return store.get(volumeId).orElse(MountRecord.empty(volumeId));
    }

    public Optional<MountRecord> find(String volumeId) {
        return store.get(volumeId);
    }

    public boolean inUse(String volumeId) {
        return store.get(volumeId).map(v -> !v.unused()).orElse(false);
    }

    public int volumesInUse() {
        return (int) store.all().stream().filter(v -> !v.unused()).count();
    }

    /** Every path where something is staged or published on this node. */
    public List<Path> mountedPaths() {
        List<Path> paths = new ArrayList<>();
        for (MountRecord v : store.all()) {
            if (v.stagingPath() != null) {
                paths.add(Path.of(v.stagingPath()));
            }
            v.publications().forEach(p -> paths.add(Path.of(p.targetPath())));
        }
        return paths;
    }

    /** The records of every volume staged or published on this node. */
    public List<MountRecord> all() {
        return List.copyOf(store.all());
    }

    public void put(MountRecord volume) throws IOException {
        if (volume.unused()) {
            store.remove(volume.volumeId());
        } else {
            store.put(volume);
        }
    }

    /**
     * Drops records of mounts that are not there (a crash came between the record and the mount, or
     * between the unmount and the record), removing a target directory left empty by such a publish.
     */
    public void reconcile(MountTable mounts) throws IOException {
        for (MountRecord v : store.all()) {
            MountRecord kept = v;
            if (v.stagingPath() != null && !mounts.isMountPoint(Path.of(v.stageMountPoint()))) {
                LOG.info("volume {}: staging mount at {} is gone; forgetting it", v.volumeId(), v.stageMountPoint());
                kept = kept.unstaged();
            }
            for (Publication p : v.publications()) {
                Path target = Path.of(p.targetPath());
                if (!mounts.isMountPoint(target)) {
                    LOG.info("volume {}: publish mount at {} is gone; forgetting it", v.volumeId(), target);
                    kept = kept.without(p.targetPath());
                    removeEmptyDirectory(target);
                }
            }
            if (!kept.equals(v)) {
                put(kept);
            }
        }
    }

    private static void removeEmptyDirectory(Path dir) {
        try {
            if (Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(dir);
            }
        } catch (IOException e) {
            LOG.debug("left {} in place: {}", dir, e.toString());
        }
    }
}
