package dev.strata.controller.cluster;

import dev.strata.api.v1alpha1.Conversions;
import dev.strata.api.v1alpha1.EngineCapacity;
import dev.strata.api.v1alpha1.StrataNode;
import dev.strata.common.CsiException;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.EngineTraits;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node plugins that have registered, as the informer's cache holds them at one moment, and what
 * their engines offer: where a new volume goes, how much space an engine has, and what it can do.
 * No I/O, so placement and capacity are tested without an API server.
 */
record RegisteredNodes(List<StrataNode> nodes) {
    RegisteredNodes {
        nodes = List.copyOf(nodes);
    }

    List<String> names() {
        return nodes.stream().map(n -> n.getMetadata().getName()).sorted().toList();
    }

    /**
     * The node for a new volume of {@code engine}: the first of {@code allowed} (every node, most free
     * space first, when empty) whose engine can hold {@code needBytes}; RESOURCE_EXHAUSTED with each
     * node's reason otherwise.
     */
    String place(String engine, long needBytes, List<String> allowed) {
        long need = Math.max(needBytes, 1);
        List<String> reasons = new ArrayList<>();
        for (String name : allowed.isEmpty() ? byFreeSpace(engine) : allowed) {
            Optional<EngineCapacity> e = engineOn(name, engine);
            if (e.isEmpty()) {
                reasons.add(name + " runs no " + engine + " engine");
            } else if (e.get().getAllocatableBytes() < need) {
                reasons.add(name + " has " + e.get().getAllocatableBytes() + " bytes free for " + engine);
            } else {
                return name;
            }
        }
        throw CsiException.resourceExhausted("no node can hold " + need + " bytes of engine " + engine
                + (reasons.isEmpty() ? ": no node plugin has registered" : ": " + String.join("; ", reasons)));
    }

    private List<String> byFreeSpace(String engine) {
        return nodes.stream()
                .sorted(Comparator.comparingLong((StrataNode n) -> engineOn(n, engine)
                        .map(EngineCapacity::getAllocatableBytes).orElse(-1L)).reversed())
                .map(n -> n.getMetadata().getName())
                .toList();
    }

    /**
     * The space of {@code engine} on {@code node}; with no node, the space of all nodes together, while
     * the largest volume is still what one node can hold.
     */
    Capacity capacity(String engine, String node) {
        if (node != null) {
            return engineOn(node, engine).map(Conversions::capacity).orElse(new Capacity(0, 0, 0));
        }
        long available = 0;
        long largest = 0;
        long smallest = 0;
        for (StrataNode n : nodes) {
            Optional<EngineCapacity> e = engineOn(n, engine);
            if (e.isPresent()) {
                available += e.get().getAllocatableBytes();
                largest = Math.max(largest, e.get().getMaximumVolumeBytes());
                smallest = Math.max(smallest, e.get().getMinimumVolumeBytes());
            }
        }
        return new Capacity(available, largest, smallest);
    }

    /**
     * What {@code engine} can do, from the first node that runs it. UNAVAILABLE before any node has
     * registered; RESOURCE_EXHAUSTED when nodes know the engine but cannot run it (a missing pool);
     * INVALID_ARGUMENT naming the parameter when no node knows it.
     */
    EngineTraits traits(String engine) {
        for (StrataNode n : nodes) {
            Optional<EngineCapacity> e = engineOn(n, engine);
            if (e.isPresent()) {
                return Conversions.traits(e.get());
            }
        }
        if (nodes.isEmpty()) {
            throw new CsiException(Status.Code.UNAVAILABLE, "no node plugin has registered yet");
        }
        List<String> why = nodes.stream().filter(n -> unavailable(n).containsKey(engine))
                .map(n -> n.getMetadata().getName() + ": " + unavailable(n).get(engine)).toList();
        if (!why.isEmpty()) {
            throw CsiException.resourceExhausted("no node can run the " + engine + " engine ("
                    + String.join("; ", why) + ")");
        }
        throw CsiException.invalidArgument("parameters." + Conversions.ENGINE_PARAMETER, "unknown engine \""
                + engine + "\": no node runs it");
    }

    /** The largest volume {@code engine} on {@code node} can hold; 0 when it does not say. */
    long maximumVolumeBytes(String node, String engine) {
        return engineOn(node, engine).map(EngineCapacity::getMaximumVolumeBytes).orElse(0L);
    }

    private Optional<EngineCapacity> engineOn(String node, String engine) {
        return nodes.stream().filter(n -> n.getMetadata().getName().equals(node)).findFirst()
                .flatMap(n -> engineOn(n, engine));
    }

    private static Optional<EngineCapacity> engineOn(StrataNode node, String engine) {
        if (node.getStatus() == null || node.getStatus().getEngines() == null) {
            return Optional.empty();
        }
        return node.getStatus().getEngines().stream().filter(e -> e.getName().equals(engine)).findFirst();
    }

    private static Map<String, String> unavailable(StrataNode n) {
        return n.getStatus() == null || n.getStatus().getUnavailableEngines() == null ? Map.of()
                : n.getStatus().getUnavailableEngines();
    }
}
