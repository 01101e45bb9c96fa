package dev.strata.common;

import java.util.List;
import java.util.function.Function;

/**
 * One page of a list sorted by ID. The token is the last ID of the previous page, so a page stays
 * correct when entries are added or removed between calls, including the entry the token names.
 */
public record Page<T>(List<T> entries, String nextToken) {
    public static <T> Page<T> of(List<T> sortedById, Function<T, String> id, String startingToken, int maxEntries,
            java.util.function.Predicate<String> validToken) {
        if (maxEntries < 0) {
            throw CsiException.invalidArgument("max_entries", "must not be negative, got " + maxEntries);
        }
        if (!startingToken.isEmpty() && !validToken.test(startingToken)) {
            throw CsiException.aborted("starting_token: not a token this plugin issued: "
                    + Validate.printable(startingToken));
        }
        int from = 0;
        if (!startingToken.isEmpty()) {
            while (from < sortedById.size() && id.apply(sortedById.get(from)).compareTo(startingToken) <= 0) {
                from++;
            }
        }
        int to = maxEntries == 0 ? sortedById.size() : Math.min(sortedById.size(), from + maxEntries);
        List<T> entries = sortedById.subList(from, to);
        String next = to < sortedById.size() && !entries.isEmpty() ? id.apply(entries.get(entries.size() - 1)) : "";
        return new Page<>(List.copyOf(entries), next);
    }
}
