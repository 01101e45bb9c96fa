package dev.strata.backup;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides whether a manifest is safe to restore, before anything is written. The manifest is
 * untrusted (whoever can write the target can write one), so every path must be relative and
 * normalised, and must lie under a directory entry that came before it: never under a symlink or a
 * file, so a restore can never be led to write through a link it made itself.
 */
final class ManifestChecks {
    private static final int MAX_PATH = 4096;
    private static final Set<String> TYPES = Set.of(Manifest.Entry.DIR, Manifest.Entry.FILE, Manifest.Entry.SYMLINK,
            Manifest.Entry.WHITEOUT);
    /** How a layer's backup is named: by its content ({@link Layer}). */
    static final String LAYER_PREFIX = "layer-";
    private static final Pattern LAYER_NAME = Pattern.compile("layer-[0-9a-f]{64}");

    private ManifestChecks() {}

    /** Whether the manifest is a device image's (its only entry is one); else it is a tree's or layers'. */
    static boolean isImage(Manifest manifest) {
        return firstType(manifest, Manifest.Entry.IMAGE);
    }

    /** Whether the manifest is an overlay snapshot's, naming its layers' backups. */
    static boolean isLayered(Manifest manifest) {
        return firstType(manifest, Manifest.Entry.LAYER);
    }

    /** Whether the manifest is one layer's (a tree that may hold whiteouts and opaque directories). */
    static boolean isLayer(Manifest manifest) {
        return isLayerName(manifest.name()) && !isImage(manifest) && !isLayered(manifest);
    }

    /**
     * Whether {@code name} is a layer's: the prefix and an ID, exactly, so that no other backup can
     * be taken for a layer (a prune deletes the layers no backup names).
     */
    static boolean isLayerName(String name) {
        return name != null && LAYER_NAME.matcher(name).matches();
    }

    /** Whether {@code name} starts as a layer's, which no other backup may. */
    static boolean isReservedName(String name) {
        return name != null && name.startsWith(LAYER_PREFIX);
    }

    private static boolean firstType(Manifest manifest, String type) {
        List<Manifest.Entry> entries = manifest.entries();
        return entries != null && !entries.isEmpty() && entries.get(0) != null && type.equals(entries.get(0).type());
    }

    /** What a backup holds, as its error messages say it. */
    static String describe(Manifest manifest) {
        return isImage(manifest) ? "a device image" : isLayered(manifest) ? "an overlay snapshot's layers"
                : isLayer(manifest) ? "one layer of an overlay snapshot" : "a tree of files";
    }

    /** The checks of a tree's, a layer's, an image's or an overlay snapshot's manifest, whichever it is. */
    static void check(Manifest manifest, int maxChunk) throws BackupException {
        if (isImage(manifest)) {
            checkImage(manifest, maxChunk);
        } else if (isLayered(manifest)) {
            checkLayered(manifest);
        } else {
            checkTree(manifest, maxChunk);
        }
    }

    /**
     * An overlay snapshot's manifest: only {@value Manifest.Entry#LAYER} entries, each with a key and
     * the name of a layer's backup, and no content of its own.
     */
    static void checkLayered(Manifest manifest) throws BackupException {
        String backup = "backup " + manifest.name();
        if (!isLayered(manifest)) {
            throw new BackupException(BackupException.Kind.INVALID, backup + " is " + describe(manifest)
                    + ", not an overlay snapshot's layers");
        }
        for (Manifest.Entry layer : manifest.entries()) {
            boolean valid = layer != null && Manifest.Entry.LAYER.equals(layer.type()) && layer.path() != null
                    && !layer.path().isEmpty() && layer.path().length() <= MAX_PATH && layer.path().indexOf('\0') < 0
                    && isLayerName(layer.target()) && layer.chunks().isEmpty() && layer.size() >= 0;
            if (!valid) {
                throw new BackupException(BackupException.Kind.CORRUPT, backup + ": an invalid layer entry "
                        + (layer == null ? null : layer.path() + " -> " + layer.target()));
            }
        }
    }

    /**
     * An image's manifest: one entry {@code "."}, whose refs (chunks no larger than {@code maxChunk},
     * holes of any positive length) add up to its size.
     */
    static void checkImage(Manifest manifest, int maxChunk) throws BackupException {
        String backup = "backup " + manifest.name();
        if (!isImage(manifest)) {
            throw new BackupException(BackupException.Kind.INVALID, backup + " is " + describe(manifest)
                    + ", not a device image");
        }
        Manifest.Entry image = manifest.entries().get(0);
        if (manifest.entries().size() != 1 || !".".equals(image.path())) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + ": an image must be its manifest's only "
                    + "entry, '.'");
        }
        long total = 0;
        for (Manifest.ChunkRef ref : image.chunks()) {
            boolean valid = ref != null && (ref.isHole() ? ref.size() > 0 && !ref.isPacked()
                    : ChunkStore.isValidRef(ref, maxChunk));
            if (!valid) {
                throw new BackupException(BackupException.Kind.CORRUPT, backup + ": the image references an invalid "
                        + "chunk " + ref);
            }
            total += ref.size();
        }
        if (total != image.size()) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + ": the image's chunks hold " + total
                    + " bytes but its size is " + image.size());
        }
    }

    /**
     * A tree's or a layer's manifest, checked for a restore into a directory: only a layer may hold
     * whiteouts and opaque directories, and only a restore that can make them ({@code asLayer}) takes
     * one; a plain tree of files is no layer.
     */
    static void checkRestorable(Manifest manifest, int maxChunk, boolean asLayer) throws BackupException {
        String backup = "backup " + manifest.name();
        if (isImage(manifest) || isLayered(manifest) || isLayer(manifest) != asLayer) {
            throw new BackupException(BackupException.Kind.INVALID, backup + " is " + describe(manifest) + ": it "
                    + "restores " + (isImage(manifest) ? "onto a volume of a block engine (thin)"
                    : isLayered(manifest) || isLayer(manifest) ? "as an overlay volume's layers"
                    : "into a directory") + ", not " + (asLayer ? "as an overlay layer" : "into a directory"));
        }
        checkTree(manifest, maxChunk);
    }

    private static void checkTree(Manifest manifest, int maxChunk) throws BackupException {
        List<Manifest.Entry> entries = manifest.entries();
        String backup = "backup " + manifest.name() + " cannot be restored safely: ";
        boolean layer = isLayer(manifest);
        if (entries.isEmpty() || entries.get(0) == null || !".".equals(entries.get(0).path())
                || !Manifest.Entry.DIR.equals(entries.get(0).type())) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + "its first entry is not the root directory '.'");
        }
        Map<String, String> typeByPath = new HashMap<>();
        typeByPath.put(".", Manifest.Entry.DIR);
        for (Manifest.Entry entry : entries.subList(1, entries.size())) {
            String problem = entry == null ? "is null" : problem(entry, typeByPath, maxChunk, layer);
            if (problem != null) {
                String path = entry == null ? "?" : entry.path();
                throw new BackupException(BackupException.Kind.CORRUPT, backup + "entry '" + path + "' " + problem);
            }
            typeByPath.put(entry.path(), entry.type());
        }
        String rootProblem = attributeProblem(entries.get(0), layer);
        if (rootProblem != null) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + "the root entry " + rootProblem);
        }
    }

    private static String problem(Manifest.Entry entry, Map<String, String> typeByPath, int maxChunk,
            boolean layer) {
        String path = entry.path();
        if (!isSafePath(path)) {
            return "is not a relative, normalised path inside the restore directory";
        }
        if (typeByPath.containsKey(path)) {
            return "appears twice";
        }
        int slash = path.lastIndexOf('/');
        String parentType = typeByPath.get(slash < 0 ? "." : path.substring(0, slash));
        if (parentType == null) {
            return "comes before its directory, or its directory is missing";
        }
        if (!parentType.equals(Manifest.Entry.DIR)) {
            return "lies under a " + parentType + ", not a directory";
        }
        String attributes = attributeProblem(entry, layer);
        return attributes != null ? attributes : contentProblem(entry, maxChunk);
    }

    static boolean isSafePath(String path) {
        if (path == null || path.isEmpty() || path.length() > MAX_PATH || path.startsWith("/") || path.indexOf('\0') >= 0) {
            return false;
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    private static String attributeProblem(Manifest.Entry entry, boolean layer) {
        if (!TYPES.contains(entry.type())) {
            return "has an unknown type " + entry.type();
        }
        if (!layer && (entry.opaque() || entry.type().equals(Manifest.Entry.WHITEOUT))) {
            return "is an overlay layer's " + (entry.opaque() ? "opaque directory" : "whiteout") + " in a tree "
                    + "that is no layer";
        }
        if (entry.opaque() && !entry.type().equals(Manifest.Entry.DIR)) {
            return "is opaque but not a directory";
        }
        if (entry.mode() < 0 || entry.mode() > 07777) {
            return "has an invalid mode " + entry.mode();
        }
        return null;
    }

    private static String contentProblem(Manifest.Entry entry, int maxChunk) {
        List<Manifest.ChunkRef> chunks = entry.chunks() == null ? List.of() : entry.chunks();
        if (entry.type().equals(Manifest.Entry.SYMLINK)) {
            String target = entry.target();
            return target == null || target.isEmpty() || target.indexOf('\0') >= 0 ? "has an invalid symlink target" : null;
        }
        if (!entry.type().equals(Manifest.Entry.FILE)) {
            return chunks.isEmpty() ? null : "has chunks but is not a file";
        }
        long total = 0;
        for (Manifest.ChunkRef ref : chunks) {
            if (ref == null || !ChunkStore.isValidRef(ref, maxChunk)) {
                return "references an invalid chunk " + ref;
            }
            total += ref.size();
        }
        return total == entry.size() ? null : "has chunks of " + total + " bytes but a size of " + entry.size();
    }
}
