package dev.strata.backup;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether a manifest is safe to restore, before anything is written. The manifest is
 * untrusted (whoever can write the target can write one), so every path must be relative and
 * normalised, and must lie under a directory entry that came before it: never under a symlink or a
 * file, so a restore can never be led to write through a link it made itself.
 */
final class ManifestChecks {
    private static final int MAX_PATH = 4096;
    private static final Set<String> TYPES = Set.of(Manifest.Entry.DIR, Manifest.Entry.FILE, Manifest.Entry.SYMLINK);

    private ManifestChecks() {}

    /** Whether the manifest is a device image's (its only entry is one); else it is a tree's. */
    static boolean isImage(Manifest manifest) {
        List<Manifest.Entry> entries = manifest.entries();
        return entries != null && !entries.isEmpty() && entries.get(0) != null
                && Manifest.Entry.IMAGE.equals(entries.get(0).type());
    }

    /** The checks of a tree's or an image's manifest, whichever it is. */
    static void check(Manifest manifest, int maxChunk) throws BackupException {
        if (isImage(manifest)) {
            checkImage(manifest, maxChunk);
        } else {
            checkRestorable(manifest, maxChunk);
        }
    }

    /**
     * An image's manifest: one entry {@code "."}, whose refs (chunks no larger than {@code maxChunk},
     * holes of any positive length) add up to its size.
     */
    static void checkImage(Manifest manifest, int maxChunk) throws BackupException {
        String backup = "backup " + manifest.name();
        if (!isImage(manifest)) {
            throw new BackupException(BackupException.Kind.INVALID, backup + " is a tree of files, not a device image");
        }
        Manifest.Entry image = manifest.entries().get(0);
        if (manifest.entries().size() != 1 || !".".equals(image.path())) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + ": an image must be its manifest's only "
                    + "entry, '.'");
        }
        long total = 0;
        for (Manifest.ChunkRef ref : image.chunks()) {
            boolean valid = ref != null && ref.size() > 0
                    && (ref.isHole() || (ChunkStore.isValidId(ref.id()) && ref.size() <= maxChunk));
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

    static void checkRestorable(Manifest manifest, int maxChunk) throws BackupException {
        List<Manifest.Entry> entries = manifest.entries();
        String backup = "backup " + manifest.name() + " cannot be restored safely: ";
        if (isImage(manifest)) {
            throw new BackupException(BackupException.Kind.INVALID, "backup " + manifest.name() + " is a device "
                    + "image, not a tree of files: it restores onto a volume of a block engine (thin)");
        }
        if (entries.isEmpty() || entries.get(0) == null || !".".equals(entries.get(0).path())
                || !Manifest.Entry.DIR.equals(entries.get(0).type())) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + "its first entry is not the root directory '.'");
        }
        Map<String, String> typeByPath = new HashMap<>();
        typeByPath.put(".", Manifest.Entry.DIR);
        for (Manifest.Entry entry : entries.subList(1, entries.size())) {
            String problem = entry == null ? "is null" : problem(entry, typeByPath, maxChunk);
            if (problem != null) {
                String path = entry == null ? "?" : entry.path();
                throw new BackupException(BackupException.Kind.CORRUPT, backup + "entry '" + path + "' " + problem);
            }
            typeByPath.put(entry.path(), entry.type());
        }
        String rootProblem = attributeProblem(entries.get(0));
        if (rootProblem != null) {
            throw new BackupException(BackupException.Kind.CORRUPT, backup + "the root entry " + rootProblem);
        }
    }

    private static String problem(Manifest.Entry entry, Map<String, String> typeByPath, int maxChunk) {
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
        String attributes = attributeProblem(entry);
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

    private static String attributeProblem(Manifest.Entry entry) {
        if (!TYPES.contains(entry.type())) {
            return "has an unknown type " + entry.type();
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
            if (ref == null || !ChunkStore.isValidId(ref.id()) || ref.size() <= 0 || ref.size() > maxChunk) {
                return "references an invalid chunk " + ref;
            }
            total += ref.size();
        }
        return total == entry.size() ? null : "has chunks of " + total + " bytes but a size of " + entry.size();
    }
}
