package dev.strata.node.engine.overlay;

import dev.strata.common.CsiException;
import dev.strata.common.io.AtomicFile;
import dev.strata.node.engine.Trash;
import dev.strata.node.engine.TreeCopy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The overlay engine's layers and the chains that name them. A chain is a file listing a volume's or
 * snapshot's read-only layers, topmost first. Layers are counted, not stored with a count: a layer
 * lives while any chain names it (or while it is being built, before its chain is written), and
 * goes to the trash when the last one goes, so counts cannot drift after a crash.
 */
final class LayerChains {
    static final String CHAIN = "chain";
    private static final String PARTIAL = TreeCopy.PARTIAL;

    /** A step that reads or writes chains, run while no other does and no layer is collected. */
    interface Step<T> {
        T run() throws IOException;
    }

    private final Path layers;
    private final Path volumes;
    private final Path snapshots;
    private final Path base;
    private final Trash trash;
    private final Object lock = new Object();
    /**
     * Layers being written whose chain is not yet written, or being read by a backup, each with how
     * many are at it: the collector leaves them alone.
     */
    private final Map<String, Integer> building = new ConcurrentHashMap<>();

    LayerChains(Path layers, Path volumes, Path snapshots, Path base, Trash trash) {
        this.layers = layers;
        this.volumes = volumes;
        this.snapshots = snapshots;
        this.base = base;
        this.trash = trash;
    }

    <T> T whileStill(Step<T> step) throws IOException {
        synchronized (lock) {
            return step.run();
        }
    }

    /**
     * Keeps {@code layer} from the collector until {@link #built}: its chain is not written yet, or
     * a backup reads it. Counted: two restores may wait on one shared layer.
     */
    void building(String layer) {
        building.merge(layer, 1, Integer::sum);
    }

    void built(String layer) {
        building.computeIfPresent(layer, (name, count) -> count == 1 ? null : count - 1);
    }

    static List<String> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw CsiException.notFound("layer chain " + file + " is missing");
        }
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
    }

    /** Chains are what layers are counted from: each is synced before anything that relies on it. */
    static void write(Path file, List<String> chain) throws IOException {
        AtomicFile.write(file, (String.join("\n", chain) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static List<String> prepend(String layer, List<String> chain) {
        List<String> all = new ArrayList<>(List.of(layer));
        all.addAll(chain);
        return all;
    }

    /** The lowerdir option: the chain's layers, topmost first, over the empty base. */
    String lowerDirs(List<String> chain) {
        StringBuilder lower = new StringBuilder();
        for (String layer : chain) {
            lower.append(layers.resolve(layer)).append(':');
        }
        return lower.append(base).toString();
    }

    /** Sends every layer that no volume or snapshot names any more to the trash. */
    void collect() throws IOException {
        whileStill(() -> {
            Set<String> used = new HashSet<>();
            for (Path chain : chainFiles(true)) {
                used.addAll(read(chain));
            }
            for (Path layer : list(layers)) {
                String name = layer.getFileName().toString();
                if (!used.contains(name) && !name.startsWith(PARTIAL) && !building.containsKey(name)) {
                    trash.discard(layer);
                }
            }
            return null;
        });
    }

    /** The layers on disk, and the most any chain has. */
    record Counts(long layers, int deepest) {}

    Counts counts() throws IOException {
        return whileStill(() -> {
            long layerCount = list(layers).stream().filter(l -> !l.getFileName().toString().startsWith(PARTIAL))
                    .count();
            int deepest = 0;
            for (Path chain : chainFiles(false)) {
                deepest = Math.max(deepest, read(chain).size());
            }
            return new Counts(layerCount, deepest);
        });
    }

    /**
     * Every chain: each volume's, and each snapshot's ({@code partial}: with those of snapshots a
     * crash left unfinished, which the collector must still count).
     */
    private List<Path> chainFiles(boolean partial) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path v : list(volumes)) {
            if (Files.isRegularFile(v.resolve(CHAIN))) {
                files.add(v.resolve(CHAIN));
            }
        }
        files.addAll(snapshotChains(partial));
        return files;
    }

    /** The chain files of the snapshots there are, leaving out those a crash left unfinished. */
    List<Path> snapshotChains() throws IOException {
        return snapshotChains(false);
    }

    private List<Path> snapshotChains(boolean partial) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path s : list(snapshots)) {
            String name = s.getFileName().toString();
            if (Files.isRegularFile(s) && (partial || !name.startsWith(PARTIAL)) && !name.endsWith(".tmp")) {
                files.add(s);
            }
        }
        return files;
    }

    static List<Path> list(Path dir) throws IOException {
        List<Path> all = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            entries.forEach(all::add);
        }
        return all;
    }
}
