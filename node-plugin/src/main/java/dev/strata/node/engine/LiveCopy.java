package dev.strata.node.engine;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.sys.Sandbox;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot copies a tree that a pod may be changing at that moment. An entry that goes, or turns
 * into something else, between the copier's look and its copy (a temporary file renamed over
 * another, a directory swapped for a link) was not there as it was at the instant the copy stands
 * for; that is not a failure, and the copier goes on with everything else. What counts is what cp
 * and rsync say about each entry of the source ({@link Sandbox#SOURCE}): when every complaint is one
 * of those, the copy succeeded; any other (the target, the disk, a permission) fails it.
 */
public final class LiveCopy {
    private static final Logger LOG = LoggerFactory.getLogger(LiveCopy.class);
    private static final String SOURCE = Pattern.quote(Sandbox.SOURCE + "/");
    /** The errno texts of an entry that went or changed type while it was copied. */
    private static final String CHANGED = "(No such file or directory|Not a directory|No data available|Invalid argument)"
            + "( \\(\\d+\\))?";
    private static final List<Pattern> SYMPTOMS = List.of(
            // cp: cannot stat|open|access 'X'[ for reading]: ERR; cp: 'X': ERR; cannot read symbolic link 'X': ERR
            Pattern.compile("cp: (cannot (stat|open|access|read symbolic link) )?['‘]" + SOURCE + ".*['’]"
                    + "( for reading)?: " + CHANGED),
            Pattern.compile("cp: skipping file ['‘]" + SOURCE + ".*['’], as it was replaced while being copied"),
            // rsync: [sender] CALL("X"...) failed: ERR (N); file has vanished: "X"
            Pattern.compile("rsync: \\[sender] .*\"" + SOURCE + ".*\".* failed: " + CHANGED),
            Pattern.compile("file has vanished: \"" + SOURCE + ".*\""),
            Pattern.compile("rsync (error|warning): some files(/attrs were not transferred| vanished before they could be"
                    + " transferred) .*\\(code 2[34]\\).*"));

    private LiveCopy() {}

    private static final Pattern REPLACED = Pattern.compile(
            "cp: skipping file ['‘]" + SOURCE + "(?:\\./)?(.+)['’], as it was replaced while being copied");

    /**
     * The files cp skipped because they were renamed over while it copied them (their inode changed
     * between its look and its open), relative to the source: unlike an entry that went, such a file
     * was there all along, so a copy without it stands for no moment of the tree.
     */
    public static List<String> replaced(CommandRunner.Result r) {
        return r.stderr().lines().map(REPLACED::matcher).filter(java.util.regex.Matcher::matches)
                .map(m -> m.group(1)).toList();
    }

    private static final Pattern ABORTED = Pattern.compile("ABORTING due to invalid path from sender: .*");

    /**
     * Whether rsync gave up on the whole copy because its list named a path below a directory that
     * had become a link by the time it looked again (a pod swapping the two): its receiver refuses
     * such a path as a protocol error (code 2). Nothing about the target is wrong, and the copy can
     * run again.
     */
    public static boolean abortedByASwap(CommandRunner.Result r) {
        return r.exitCode() == 2 && r.stderr().lines().anyMatch(line -> ABORTED.matcher(line).matches());
    }

    /** Throws unless the copy succeeded or failed only on entries that changed under it. */
    public static void check(CommandRunner.Result r) {
        if (r.ok()) {
            return;
        }
        boolean onlyChanges = !r.stderr().isBlank()
                && r.stderr().lines().allMatch(line -> SYMPTOMS.stream().anyMatch(p -> p.matcher(line).matches()));
        if (!onlyChanges) {
            throw new CommandRunner.CommandFailedException(r);
        }
        LOG.info("copied a tree in use; entries that changed during the copy: {}", r.stderr().lines().count());
    }
}
