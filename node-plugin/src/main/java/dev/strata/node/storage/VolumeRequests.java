package dev.strata.node.storage;

import dev.strata.common.CsiException;
import dev.strata.common.model.AccessMode;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import dev.strata.node.engine.VolumeEngine;
import dev.strata.node.iolimit.IoLimits;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The checks a CreateVolume passes before anything is written: the engine it names or inherits, the
 * parameters that engine knows, the size within its limits and its source's, and, on a retry, that it
 * asks for the volume already made; and the I/O limits a ControllerModifyVolume asks for. Reads
 * records; writes nothing.
 */
final class VolumeRequests {
    private final StorageConfig config;
    private final Records records;

    VolumeRequests(StorageConfig config, Records records) {
        this.config = config;
        this.records = records;
    }

    /** A restore or clone that names no engine stays in its source's engine; anything else gets the default. */
    String defaultEngineFor(ContentSource source) {
        if (source == null) {
            return config.defaultEngine();
        }
        Optional<String> sourceEngine = source.kind() == ContentSource.Kind.SNAPSHOT
                ? records.readySnapshot(source.id()).map(SnapshotRecord::engine)
                : records.readyVolume(source.id()).map(VolumeRecord::engine);
        return sourceEngine.orElse(config.defaultEngine());
    }

    /** The request's shape against what the engine offers: access, parameters, and this node. */
    void check(VolumeEngine engine, VolumeSpec spec) {
        EngineTraits traits = engine.traits();
        if (!traits.accessTypes().contains(spec.accessType())) {
            throw CsiException.invalidArgument("volume_capabilities", "the " + traits.name() + " engine does not offer "
                    + spec.accessType().name().toLowerCase() + " volumes");
        }
        for (AccessMode mode : spec.accessModes()) {
            if (!traits.accessModes().contains(mode)) {
                throw CsiException.invalidArgument("volume_capabilities", "the " + traits.name()
                        + " engine does not support access mode " + mode);
            }
        }
        checkKeys("parameters", spec.parameters(), traits.parameterKeys(), true);
        checkKeys("mutable_parameters", spec.mutableParameters(), traits.mutableParameterKeys(), false);
        engine.validateParameters("parameters", spec.parameters());
        engine.validateParameters("mutable_parameters", spec.mutableParameters());
        IoLimits.parse("parameters", spec.parameters());
        IoLimits.parse("mutable_parameters", spec.mutableParameters());
        if (!spec.mutableParameters().isEmpty()) {
            // Together: a VolumeAttributesClass's limits need what the StorageClass gives (a device).
            engine.validateParameters("parameters", spec.effectiveParameters());
        }
        if (!spec.nodes().isEmpty() && !spec.nodes().contains(config.nodeId())) {
            throw CsiException.resourceExhausted("accessibility_requirements: this plugin serves only node "
                    + config.nodeId() + ", not " + spec.nodes());
        }
    }

    /**
     * The limits a ControllerModifyVolume gives the volume ({@code volume} with the {@code changes}
     * made): INVALID_ARGUMENT naming the value that is wrong, or the first limit when
     * the volume has no device of its own to key limits to.
     */
    static IoLimits ioLimits(VolumeEngine engine, VolumeRecord volume, Map<String, String> changes) {
        IoLimits.parse("mutable_parameters", changes);
        IoLimits limits = IoLimits.of(volume);
        if (!limits.none() && !engine.limitsIo(volume)) {
            String key = changes.keySet().stream().filter(IoLimits.KEYS::contains).sorted().findFirst()
                    .orElse(IoLimits.WRITE_BPS);
            throw CsiException.invalidArgument("mutable_parameters." + key, "volume " + volume.id() + " has no "
                    + "block device of its own (its size is held by " + volume.attributes().getOrDefault("sizeLimit",
                            "its filesystem") + "), and I/O limits are keyed to one");
        }
        return limits;
    }

    static void checkKeys(String field, Map<String, String> given, Set<String> known, boolean creation) {
        for (String key : given.keySet()) {
            boolean ok = known.contains(key)
                    || creation && (key.equals(LocalStorage.ENGINE_PARAMETER) || key.equals(BackupRef.FROM_PARAMETER)
                            || key.startsWith(LocalStorage.KUBERNETES_PREFIX));
            if (!ok) {
                throw CsiException.invalidArgument(field + "." + key, "unknown parameter (known: "
                        + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    /** The size a new volume gets: what was asked for, never less than its source, within the limits. */
    long sizeFor(VolumeSpec spec, VolumeEngine engine, long sourceBytes) throws IOException {
        // No size asked for: a restore or clone takes its source's size, an empty volume the default.
        long size = spec.requiredBytes() > 0 ? spec.requiredBytes()
                : spec.source() != null ? sourceBytes : config.defaultVolumeBytes();
        if (spec.requiredBytes() == 0 && spec.limitBytes() > 0 && spec.source() == null) {
            size = Math.min(size, spec.limitBytes());
        }
        size = Math.max(size, sourceBytes);
        if (spec.limitBytes() > 0 && size > spec.limitBytes()) {
            throw CsiException.outOfRange("capacity_range.limit_bytes", "the content source needs " + sourceBytes
                    + " bytes, more than the limit of " + spec.limitBytes());
        }
        long least = engine.minimumBytes(spec.parameters(), spec.accessType());
        if (size < least) {
            if (spec.limitBytes() > 0 && least > spec.limitBytes()) {
                throw CsiException.outOfRange("capacity_range.limit_bytes", "a " + engine.traits().name()
                        + " volume with these parameters is at least " + least + " bytes, more than the limit of "
                        + spec.limitBytes());
            }
            size = least;
        }
        long max = engine.capacity().maximumVolumeBytes();
        if (size > max) {
            throw CsiException.outOfRange("capacity_range.required_bytes", size + " bytes is more than the largest "
                    + "volume this node can hold (" + max + " bytes)");
        }
        return size;
    }

    long sourceSize(ContentSource source, VolumeEngine engine) {
        if (source == null) {
            return 0;
        }
        String engineName;
        long bytes;
        if (source.kind() == ContentSource.Kind.SNAPSHOT) {
            SnapshotRecord s = records.readySnapshot(source.id()).orElseThrow(() -> CsiException.notFound(
                    "volume_content_source.snapshot.snapshot_id: snapshot " + source.id() + " does not exist"));
            engineName = s.engine();
            bytes = s.sizeBytes();
        } else {
            VolumeRecord v = records.readyVolume(source.id()).orElseThrow(() -> CsiException.notFound(
                    "volume_content_source.volume.volume_id: volume " + source.id() + " does not exist"));
            engineName = v.engine();
            bytes = v.capacityBytes();
        }
        if (!engineName.equals(engine.traits().name())) {
            throw CsiException.invalidArgument("volume_content_source", "the source lives in the " + engineName
                    + " engine; a " + engine.traits().name() + " volume cannot be made from it");
        }
        return bytes;
    }

    /** The volume already made under this name, if the request matches it; ALREADY_EXISTS naming what differs. */
    VolumeRecord sameVolume(VolumeRecord existing, VolumeSpec spec, VolumeEngine engine) {
        List<String> differences = new ArrayList<>();
        if (spec.requiredBytes() > existing.capacityBytes()
                || spec.limitBytes() > 0 && existing.capacityBytes() > spec.limitBytes()) {
            differences.add("capacity (it has " + existing.capacityBytes() + " bytes)");
        }
        if (!existing.engine().equals(engine.traits().name())) {
            differences.add("engine (it uses " + existing.engine() + ")");
        }
        Map<String, String> parameters = new HashMap<>(spec.parameters());
        parameters.put(LocalStorage.ENGINE_PARAMETER, engine.traits().name());
        if (!existing.parameters().equals(parameters)) {
            differences.add("parameters");
        }
        if (!Objects.equals(existing.source(), spec.source())) {
            differences.add("content source");
        }
        if (existing.accessType() != spec.accessType()) {
            differences.add("access type");
        }
        if (!differences.isEmpty()) {
            throw CsiException.alreadyExists("name: a volume named \"" + spec.name() + "\" already exists with "
                    + "different " + String.join(", ", differences));
        }
        return existing;
    }
}
