package dev.strata.controller.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.api.v1alpha1.EngineCapacity;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.api.v1alpha1.StrataNodeStatus;
import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.EngineTraits;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegisteredNodesTest {
    private static final long GIB = 1L << 30;

    @Test
    void aNewVolumeGoesToTheNodeWithTheMostFreeSpace() {
        RegisteredNodes nodes = new RegisteredNodes(List.of(node("a", engine("dir", 2 * GIB)),
                node("b", engine("dir", 5 * GIB)), node("c", engine("thin", 9 * GIB))));

        assertEquals("b", nodes.place("dir", GIB, List.of()));
        assertEquals("c", nodes.place("thin", GIB, List.of()));
    }

    @Test
    void theRequirementsOrderOverridesFreeSpaceAndSkipsNodesWithoutRoom() {
        RegisteredNodes nodes = new RegisteredNodes(List.of(node("a", engine("dir", 2 * GIB)),
                node("b", engine("dir", 5 * GIB))));

        assertEquals("a", nodes.place("dir", GIB, List.of("a", "b")));
        assertEquals("b", nodes.place("dir", 3 * GIB, List.of("a", "b")));
    }

    @Test
    void whenNoNodeFitsTheErrorGivesEachNodesReason() {
        RegisteredNodes nodes = new RegisteredNodes(List.of(node("a", engine("dir", 2 * GIB)), node("b")));

        CsiException e = assertThrows(CsiException.class, () -> nodes.place("dir", 3 * GIB, List.of()));

        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.code());
        assertTrue(e.getMessage().contains("a has " + 2 * GIB + " bytes free for dir"), e.getMessage());
        assertTrue(e.getMessage().contains("b runs no dir engine"), e.getMessage());
        CsiException none = assertThrows(CsiException.class,
                () -> new RegisteredNodes(List.of()).place("dir", 1, List.of()));
        assertTrue(none.getMessage().contains("no node plugin has registered"), none.getMessage());
        CsiException unknownNode = assertThrows(CsiException.class, () -> nodes.place("dir", 1, List.of("z")));
        assertTrue(unknownNode.getMessage().contains("z runs no dir engine"), unknownNode.getMessage());
    }

    @Test
    void aVolumeOfNoSizeStillNeedsAByte() {
        RegisteredNodes nodes = new RegisteredNodes(List.of(node("full", engine("dir", 0)),
                node("roomy", engine("dir", GIB))));

        assertEquals("roomy", nodes.place("dir", 0, List.of("full", "roomy")));
    }

    @Test
    void capacityWithoutANodeSumsTheSpaceButNotTheLargestVolume() {
        EngineCapacity small = engine("thin", 3 * GIB);
        small.setMaximumVolumeBytes(3 * GIB);
        small.setMinimumVolumeBytes(4096);
        EngineCapacity big = engine("thin", 7 * GIB);
        big.setMaximumVolumeBytes(7 * GIB);
        big.setMinimumVolumeBytes(1 << 20);
        RegisteredNodes nodes = new RegisteredNodes(List.of(node("a", small), node("b", big),
                node("c", engine("dir", 100 * GIB))));

        assertEquals(new Capacity(10 * GIB, 7 * GIB, 1 << 20), nodes.capacity("thin", null));
        assertEquals(new Capacity(3 * GIB, 3 * GIB, 4096), nodes.capacity("thin", "a"));
        assertEquals(new Capacity(0, 0, 0), nodes.capacity("thin", "c"));
        assertEquals(new Capacity(0, 0, 0), nodes.capacity("thin", "gone"));
        assertEquals(7 * GIB, nodes.maximumVolumeBytes("b", "thin"));
        assertEquals(0, nodes.maximumVolumeBytes("c", "thin"));
    }

    @Test
    void traitsComeFromANodeThatRunsTheEngine() {
        EngineCapacity dir = engine("dir", GIB);
        dir.setAccessModes(List.of(AccessMode.SINGLE_NODE_WRITER.name()));
        dir.setMutableParameterKeys(List.of("mode"));
        RegisteredNodes nodes = new RegisteredNodes(List.of(node("a"), node("b", dir)));

        EngineTraits traits = nodes.traits("dir");

        assertEquals("dir", traits.name());
        assertEquals(java.util.Set.of(AccessMode.SINGLE_NODE_WRITER), traits.accessModes());
        assertEquals(java.util.Set.of("mode"), traits.mutableParameterKeys());
    }

    @Test
    void anEngineNoNodeCanRunIsExplainedByCode() {
        StrataNode withoutPool = node("a", engine("dir", GIB));
        withoutPool.getStatus().setUnavailableEngines(Map.of("thin", "no thin pool is configured"));
        RegisteredNodes nodes = new RegisteredNodes(List.of(withoutPool, node("b")));

        CsiException missingPool = assertThrows(CsiException.class, () -> nodes.traits("thin"));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, missingPool.code());
        assertTrue(missingPool.getMessage().contains("a: no thin pool is configured"), missingPool.getMessage());

        CsiException unknown = assertThrows(CsiException.class, () -> nodes.traits("zfs"));
        assertEquals(Status.Code.INVALID_ARGUMENT, unknown.code());
        assertTrue(unknown.getMessage().startsWith("parameters.engine: unknown engine \"zfs\""), unknown.getMessage());

        CsiException early = assertThrows(CsiException.class, () -> new RegisteredNodes(List.of()).traits("dir"));
        assertEquals(Status.Code.UNAVAILABLE, early.code());
    }

    @Test
    void namesAreSorted() {
        assertEquals(List.of("a", "b", "c"), new RegisteredNodes(List.of(node("c"), node("a"), node("b"))).names());
    }

    static StrataNode node(String name, EngineCapacity... engines) {
        StrataNode n = new StrataNode();
        n.setMetadata(new ObjectMetaBuilder().withName(name).build());
        StrataNodeStatus status = new StrataNodeStatus();
        status.setEngines(List.of(engines));
        n.setStatus(status);
        return n;
    }

    static EngineCapacity engine(String name, long allocatableBytes) {
        EngineCapacity e = new EngineCapacity();
        e.setName(name);
        e.setAllocatableBytes(allocatableBytes);
        e.setCapacityBytes(allocatableBytes);
        return e;
    }
}
