package dev.strata.backup;

import java.util.List;

/**
 * The outcome of re-reading every chunk a backup references.
 *
 * @param problems one line per missing or damaged chunk, naming the chunk and a file that uses it
 */
public record VerifyReport(String name, long chunksChecked, long bytesChecked, List<String> problems) {
    public VerifyReport {
        problems = List.copyOf(problems);
    }

    public boolean ok() {
        return problems.isEmpty();
    }
}
