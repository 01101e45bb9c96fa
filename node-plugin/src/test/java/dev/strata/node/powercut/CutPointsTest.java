package dev.strata.node.powercut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CutPointsTest {
    /** A log of three operations: the first makes 200 flushes, the others two each; writes between them. */
    private static List<WriteLog.Entry> log() {
        List<WriteLog.Entry> log = new ArrayList<>();
        int[] flushes = {200, 2, 2};
        for (int op = 0; op < flushes.length; op++) {
            for (int f = 0; f < flushes[op]; f++) {
                log.add(new WriteLog.Entry(log.size(), 0, 8, 8, 0, null));
                log.add(new WriteLog.Entry(log.size(), 0, 0, 0, WriteLog.FLUSH, null));
            }
            log.add(new WriteLog.Entry(log.size(), 0, 0, 0, WriteLog.MARK, CutPoints.ACKNOWLEDGEMENT + op));
        }
        log.add(new WriteLog.Entry(log.size(), 0, 16, 8, WriteLog.FUA, null)); // after the last acknowledgement
        return log;
    }

    @Test
    void aDrawIsDistinctCutPointsInLogOrderAndTheSeedRepeatsIt() {
        List<WriteLog.Entry> cuts = CutPoints.draw(log(), 6, 42);
        assertEquals(6, cuts.size());
        assertTrue(cuts.stream().allMatch(WriteLog.Entry::isCutPoint), cuts.toString());
        for (int i = 1; i < cuts.size(); i++) {
            assertTrue(cuts.get(i - 1).index() < cuts.get(i).index(), cuts.toString());
        }
        assertEquals(cuts, CutPoints.draw(log(), 6, 42));
        assertNotEquals(cuts, CutPoints.draw(log(), 6, 43));
    }

    @Test
    void everyOperationIsAsLikelyToBeCutHoweverManyWritesItMakes() {
        int first = 0;
        int draws = 2_000;
        for (long seed = 0; seed < draws; seed++) {
            WriteLog.Entry cut = CutPoints.draw(log(), 1, seed).get(0);
            first += cut.index() <= 400 ? 1 : 0; // the first operation's span: entries 0 to 400
        }
        // Four spans (three operations and what ran after the last): a quarter each, not 200 in 208.
        assertTrue(first > draws / 4 - 150 && first < draws / 4 + 150, "first operation drawn " + first);
    }

    @Test
    void askingForMoreThanThereAreGivesEveryCutPointOnce() {
        List<WriteLog.Entry> all = log().stream().filter(WriteLog.Entry::isCutPoint).toList();
        assertEquals(all, CutPoints.draw(log(), 10_000, 7));
    }
}
