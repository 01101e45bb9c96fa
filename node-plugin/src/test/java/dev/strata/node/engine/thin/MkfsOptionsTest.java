package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import io.grpc.Status;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** mkfsOptions: only flags that shape the new filesystem, values of their shape, nothing positional. */
class MkfsOptionsTest {
    private static final String FIELD = "parameters.mkfsOptions";

    @Test
    void filesystemShapingOptionsPassThrough() {
        assertEquals(List.of("-b", "4096", "-i", "16384", "-O", "^has_journal,metadata_csum", "-E",
                "stride=16,stripe_width=64,root_owner=1000:1000", "-L", "data", "-m", "0", "-j"),
                MkfsOptions.parse(FIELD, "ext4", " -b 4096  -i 16384 -O ^has_journal,metadata_csum "
                        + "-E stride=16,stripe_width=64,root_owner=1000:1000 -L data -m 0 -j"));
        assertEquals(List.of("-m", "crc=1,reflink=1", "-i", "size=512", "-d", "su=64k,sw=4", "-L", "db"),
                MkfsOptions.parse(FIELD, "xfs", "-m crc=1,reflink=1 -i size=512 -d su=64k,sw=4 -L db"));
        assertEquals(List.of(), MkfsOptions.parse(FIELD, "ext4", null));
        assertEquals(List.of(), MkfsOptions.parse(FIELD, "ext4", "   "));
    }

    /** What the audit ran, and every other flag that reads or writes something besides the new device. */
    @ParameterizedTest
    @ValueSource(strings = {"-d var", "victimfile -M", "-M /", "-c", "-l badblocks.txt", "-J device=/dev/sda",
            "-S", "-F", "-n", "-z undo.e2undo", "-d", "-b 4096 /dev/sda", "--", "-E offset=4096",
            "-O journal_dev", "-t ext2", "-L ../../etc", "-E root_owner=0:0,offset=1", "-q -q -b", "-L -d"})
    void ext4RefusesAnythingElse(String options) {
        CsiException e = assertThrows(CsiException.class, () -> MkfsOptions.parse(FIELD, "ext4", options), options);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().startsWith(FIELD + ": "), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-p protofile", "-r rtdev=/dev/sdb", "-d file=1,name=/etc/passwd", "-d name=/x",
            "-l logdev=/dev/sdb", "-l internal=0", "-f", "-N", "/dev/sda", "-m crc=1,uuid=../x", "-s size=4096 x"})
    void xfsRefusesAnythingElse(String options) {
        CsiException e = assertThrows(CsiException.class, () -> MkfsOptions.parse(FIELD, "xfs", options), options);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
    }
}
