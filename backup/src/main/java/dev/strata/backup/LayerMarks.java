package dev.strata.backup;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What overlayfs marks in a layer beyond files: opaque directories (an extended attribute in the
 * trusted namespace) and whiteouts (0/0 character devices). Java's file API can neither read the
 * one nor make either, so the node lends its native calls. A whiteout is read in plain Java.
 */
public interface LayerMarks {
    /** Whether {@code directory}, in a layer being backed up, hides the layers below it. */
    boolean isOpaque(Path directory) throws IOException;

    /** Makes the whiteout {@code name} in {@code directory}, a directory the restore made. */
    void makeWhiteout(Path directory, String name) throws IOException;

    /** Marks {@code directory}, which the restore made, opaque. */
    void makeOpaque(Path directory) throws IOException;
}
