package dev.strata.common;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status.Code;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class PageTest {
    private static final List<String> IDS = List.of("vol-a", "vol-b", "vol-c", "vol-d", "vol-e");
    private static final Predicate<String> VOLUME_TOKEN = t -> t.startsWith("vol-");

    private static Page<String> page(List<String> ids, String token, int max) {
        return Page.of(ids, Function.identity(), token, max, VOLUME_TOKEN);
    }

    @Test
    void pagesThroughTheListByLastId() {
        Page<String> first = page(IDS, "", 2);
        assertEquals(List.of("vol-a", "vol-b"), first.entries());
        assertEquals("vol-b", first.nextToken());
        Page<String> second = page(IDS, first.nextToken(), 2);
        assertEquals(List.of("vol-c", "vol-d"), second.entries());
        assertEquals("vol-d", second.nextToken());
        Page<String> last = page(IDS, second.nextToken(), 2);
        assertEquals(List.of("vol-e"), last.entries());
        assertEquals("", last.nextToken());
    }

    @Test
    void collectsEveryEntryExactlyOnce() {
        List<String> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            Page<String> p = page(IDS, token, 1);
            seen.addAll(p.entries());
            token = p.nextToken();
            pages++;
        } while (!token.isEmpty());
        assertEquals(IDS, seen);
        assertEquals(5, pages);
    }

    @Test
    void exactFitHasNoNextToken() {
        Page<String> p = page(IDS, "", 5);
        assertEquals(IDS, p.entries());
        assertEquals("", p.nextToken());
    }

    @Test
    void maxZeroMeansAll() {
        assertEquals(IDS, page(IDS, "", 0).entries());
        assertEquals("", page(IDS, "", 0).nextToken());
        assertEquals(List.of("vol-c", "vol-d", "vol-e"), page(IDS, "vol-b", 0).entries());
    }

    @Test
    void tokenOfADeletedEntryContinuesAfterIt() {
        List<String> withoutC = List.of("vol-a", "vol-b", "vol-d", "vol-e");
        Page<String> p = page(withoutC, "vol-c", 1);
        assertEquals(List.of("vol-d"), p.entries());
        assertEquals("vol-d", p.nextToken());
    }

    @Test
    void entriesAddedBeforeTheTokenAreNotRepeated() {
        List<String> grown = List.of("vol-0", "vol-a", "vol-b", "vol-bb", "vol-c");
        assertEquals(List.of("vol-bb", "vol-c"), page(grown, "vol-b", 10).entries());
    }

    @Test
    void tokenPastTheEndGivesAnEmptyLastPage() {
        Page<String> p = page(IDS, "vol-z", 2);
        assertEquals(List.of(), p.entries());
        assertEquals("", p.nextToken());
        assertEquals(List.of(), page(List.of(), "", 3).entries());
    }

    @Test
    void foreignTokenIsAborted() {
        CsiException e = assertCsi(Code.ABORTED, "starting_token", () -> page(IDS, "snap-x", 2));
        assertEquals(true, e.getMessage().contains("snap-x"));
        assertCsi(Code.ABORTED, () -> page(IDS, "bogus\0token", 0));
    }

    @Test
    void negativeMaxIsInvalidArgument() {
        assertCsi(Code.INVALID_ARGUMENT, "max_entries", () -> page(IDS, "", -1));
    }

    @Test
    void pageEntriesAreACopy() {
        List<String> ids = new ArrayList<>(IDS);
        Page<String> p = page(ids, "", 2);
        ids.clear();
        assertEquals(List.of("vol-a", "vol-b"), p.entries());
    }
}
