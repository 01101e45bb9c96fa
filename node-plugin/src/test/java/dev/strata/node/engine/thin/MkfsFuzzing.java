package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import io.grpc.Status;
import java.util.List;
import java.util.Set;

/** The fuzzer's way into the package: mkfsOptions as an admin (or a copied, mistyped line) writes them. */
public final class MkfsFuzzing {
    /** Flags that read or write something other than the new device, or skip making it. */
    private static final Set<String> NEVER_EXT4 = Set.of("-d", "-c", "-l", "-J", "-S", "-F", "-n", "-z", "-M", "--");
    private static final Set<String> NEVER_XFS = Set.of("-p", "-r", "-f", "-N", "--");
    /** mkfs.xfs suboptions that name a file or another device ({@code -d file,name=}, {@code -l logdev=}, …). */
    private static final Set<String> NEVER_XFS_ITEMS = Set.of("file", "name", "logdev", "rtdev", "protofile");

    private MkfsFuzzing() {}

    /** Accepted options are flags from the list, each with a value of its shape: never a path, never positional. */
    public static void options(String fs, String text) {
        try {
            List<String> args = MkfsOptions.parse("parameters.mkfsOptions", fs, text);
            boolean xfs = fs.equals("xfs");
            String previous = "";
            for (String a : args) {
                assertFalse(a.isEmpty() || a.contains("/") || (xfs ? NEVER_XFS : NEVER_EXT4).contains(a), args.toString());
                // a label is a name of any letters ("-L logdev" names no device); other values are suboptions
                for (String item : previous.equals("-L") ? new String[0] : a.split(",")) {
                    String key = item.contains("=") ? item.substring(0, item.indexOf('=')) : item;
                    assertFalse(xfs && NEVER_XFS_ITEMS.contains(key), args.toString());
                }
                previous = a;
            }
            assertTrue(args.isEmpty() || args.get(0).startsWith("-"), args.toString());
            assertEquals(args, MkfsOptions.parse("parameters.mkfsOptions", fs, String.join(" ", args)));
        } catch (CsiException e) {
            assertEquals(Status.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
        }
    }
}
