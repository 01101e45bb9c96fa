package dev.strata.node.state;

import dev.strata.common.model.AccessMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What this node has done with one volume: where it is staged (null when it is not) and where it is
 * published. Written before each mount and after each unmount, so that it always covers every mount
 * Strata made, and a restart can tell what is still in place.
 */
public record NodeVolume(String volumeId, String stagingPath, AccessMode stageMode, List<String> stageFlags,
        List<Publication> publications) {
    public NodeVolume {
        stageFlags = List.copyOf(stageFlags);
        publications = List.copyOf(publications);
    }

    public static NodeVolume empty(String volumeId) {
        return new NodeVolume(volumeId, null, null, List.of(), List.of());
    }

    public boolean unused() {
        return stagingPath == null && publications.isEmpty();
    }

    public Optional<Publication> publication(String targetPath) {
        return publications.stream().filter(p -> p.targetPath().equals(targetPath)).findFirst();
    }

    public NodeVolume staged(String path, AccessMode mode, List<String> flags) {
        return new NodeVolume(volumeId, path, mode, flags, publications);
    }

    public NodeVolume unstaged() {
        return new NodeVolume(volumeId, null, null, List.of(), publications);
    }

    public NodeVolume with(Publication publication) {
        List<Publication> list = new ArrayList<>(publications);
        list.removeIf(p -> p.targetPath().equals(publication.targetPath()));
        list.add(publication);
        return new NodeVolume(volumeId, stagingPath, stageMode, stageFlags, list);
    }

    public NodeVolume without(String targetPath) {
        List<Publication> list = new ArrayList<>(publications);
        list.removeIf(p -> p.targetPath().equals(targetPath));
        return new NodeVolume(volumeId, stagingPath, stageMode, stageFlags, list);
    }
}
