package dev.strata.node.engine.thin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.node.engine.thin.BlockRanges.Range;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The XML of thin_dump and thin_delta (thin-provisioning-tools 0.9), as the VM's tools print it. */
class BlockRangesTest {
    @Test
    void mappedBlocksFromThinDumpMergeWhenAdjacent() {
        String xml = """
                <superblock uuid="" time="1" transaction="3" version="2" data_block_size="128" nr_data_blocks="16384">
                  <device dev_id="1" mapped_blocks="4" transaction="0" creation_time="0" snap_time="1">
                    <single_mapping origin_block="16" data_block="0" time="0"/>
                    <range_mapping origin_begin="80" data_begin="1" length="2" time="0"/>
                    <single_mapping origin_block="82" data_block="3" time="0"/>
                  </device>
                </superblock>
                """;
        assertEquals(List.of(new Range(16, 1), new Range(80, 3)), BlockRanges.mapped(xml));
    }

    @Test
    void changedBlocksFromThinDeltaAreDifferentRightOnlyAndLeftOnly() {
        String xml = """
                <superblock uuid="" time="2" transaction="4" data_block_size="128" nr_data_blocks="16384">
                  <diff left="1" right="2">
                    <same begin="0" length="16"/>
                    <different begin="16" length="1"/>
                    <right_only begin="160" length="1"/>
                    <left_only begin="320" length="2"/>
                    <right_only begin="322" length="1"/>
                  </diff>
                </superblock>
                """;
        assertEquals(List.of(new Range(16, 1), new Range(160, 1), new Range(320, 3)), BlockRanges.changed(xml));
    }
}
