package dev.strata.node.records;

import dev.strata.common.model.AccessMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What this node has done with one volume: where it is staged (null when it is not), the mount the
 * staging made there ({@code stageMountPoint}: the staging path itself, or a file inside it for a
 * single-file volume), and where it is published. Written before each mount and after each unmount
 * has been checked, so that it always covers every mount Strata made, and says exactly what to undo
 * whatever has changed on the host since. A record from before {@code stageMountPoint} was kept has
 * it null: its mount is at the staging path.
 */
public record MountRecord(String volumeId, String stagingPath, String stageMountPoint, AccessMode stageMode,
        List<String> stageFlags, List<Publication> publications) {
    public MountRecord {
        stageFlags = List.copyOf(stageFlags);
        publications = List.copyOf(publications);
        if (stagingPath != null && stageMountPoint == null) {
            stageMountPoint = stagingPath;
        }
    }

    public static MountRecord empty(String volumeId) {
        return new MountRecord(volumeId, null, null, null, List.of(), List.of());
    }

    public boolean unused() {
        return stagingPath == null && publications.isEmpty();
    }

    public Optional<Publication> publication(String targetPath) {
        return publications.stream().filter(p -> p.targetPath().equals(targetPath)).findFirst();
    }

    public MountRecord staged(String path, String mountPoint, AccessMode mode, List<String> flags) {
        return new MountRecord(volumeId, path, mountPoint, mode, flags, publications);
    }

    public MountRecord unstaged() {
        return new MountRecord(volumeId, null, null, null, List.of(), publications);
    }

    public MountRecord with(Publication publication) {
        List<Publication> list = new ArrayList<>(publications);
        list.removeIf(p -> p.targetPath().equals(publication.targetPath()));
        list.add(publication);
        return new MountRecord(volumeId, stagingPath, stageMountPoint, stageMode, stageFlags, list);
    }

    public MountRecord without(String targetPath) {
        List<Publication> list = new ArrayList<>(publications);
        list.removeIf(p -> p.targetPath().equals(targetPath));
        return new MountRecord(volumeId, stagingPath, stageMountPoint, stageMode, stageFlags, list);
    }
}
