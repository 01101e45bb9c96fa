package dev.strata.api.v1alpha1;

import dev.strata.common.model.AccessMode;
import dev.strata.common.model.AccessType;
import dev.strata.common.model.BackupRef;
import dev.strata.common.model.Capacity;
import dev.strata.common.model.ContentSource;
import dev.strata.common.model.EngineTraits;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeHealth;
import dev.strata.common.model.VolumeRecord;
import dev.strata.common.model.VolumeSpec;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Between Strata's own records and the custom resources that carry them through the API server. */
public final class Conversions {
    /** The parameter that names the engine, as StorageClasses give it. */
    public static final String ENGINE_PARAMETER = "engine";
    static final String BACKUP_UPLOADING = "Uploading";
    static final String BACKUP_STORED = "Stored";
    static final String BACKUP_FAILED = "Failed";

    private Conversions() {}

    public static StrataVolumeSpec volumeSpec(VolumeSpec spec, String node, String engine) {
        StrataVolumeSpec s = new StrataVolumeSpec();
        s.setNode(node);
        s.setEngine(engine);
        s.setName(spec.name());
        s.setRequiredBytes(spec.requiredBytes());
        s.setLimitBytes(spec.limitBytes());
        s.setVolumeMode(spec.accessType() == AccessType.BLOCK ? Resources.BLOCK : Resources.FILESYSTEM);
        s.setAccessModes(spec.accessModes().stream().map(Enum::name).sorted().toList());
        s.setContentSource(source(spec.source()));
        s.setParameters(new TreeMap<>(spec.parameters()));
        s.setMutableParameters(new TreeMap<>(spec.mutableParameters()));
        return s;
    }

    /**
     * What the node plugin asks its storage for; the engine is named explicitly. A snapshot source on
     * another node (one with a {@code backupUrl}) becomes a restore from that backup, as if the volume's
     * parameters named it; both given at once stay both, for the node to refuse.
     */
    public static VolumeSpec volumeSpec(StrataVolumeSpec s) {
        Map<String, String> parameters = new HashMap<>(orEmpty(s.getParameters()));
        parameters.putIfAbsent(ENGINE_PARAMETER, s.getEngine());
        ContentSource source = source(s.getContentSource());
        String backupUrl = s.getContentSource() == null ? null : s.getContentSource().getBackupUrl();
        if (backupUrl != null && !parameters.containsKey(BackupRef.FROM_PARAMETER)) {
            parameters.put(BackupRef.FROM_PARAMETER, backupUrl);
            source = null;
        }
        return new VolumeSpec(s.getName(), s.getRequiredBytes(), s.getLimitBytes(), accessType(s),
                s.getAccessModes() == null ? Set.of() : s.getAccessModes().stream().map(AccessMode::valueOf)
                        .collect(Collectors.toSet()),
                parameters, orEmpty(s.getMutableParameters()), source, List.of(s.getNode()));
    }

    /**
     * Whether a repeated CreateVolume asks for the volume the resource holds (its size is checked
     * against the range once the node has made it).
     */
    public static boolean sameRequest(StrataVolumeSpec existing, StrataVolumeSpec requested) {
        return Objects.equals(existing.getName(), requested.getName())
                && Objects.equals(existing.getVolumeMode(), requested.getVolumeMode())
                && Objects.equals(existing.getEngine(), requested.getEngine())
                && orEmpty(existing.getParameters()).equals(orEmpty(requested.getParameters()))
                && sameSource(existing.getContentSource(), requested.getContentSource());
    }

    private static boolean sameSource(ContentSourceRef a, ContentSourceRef b) {
        return a == null ? b == null
                : b != null && a.getKind().equals(b.getKind()) && a.getId().equals(b.getId());
    }

    public static VolumeRecord volumeRecord(StrataVolume v) {
        StrataVolumeSpec s = v.getSpec();
        StrataVolumeStatus st = v.getStatus() == null ? new StrataVolumeStatus() : v.getStatus();
        Map<String, String> parameters = new HashMap<>(orEmpty(s.getParameters()));
        parameters.putIfAbsent(ENGINE_PARAMETER, s.getEngine());
        return new VolumeRecord(v.getMetadata().getName(), s.getName(), s.getEngine(), st.getCapacityBytes(),
                accessType(s), parameters, orEmpty(s.getMutableParameters()), source(s.getContentSource()),
                s.getNode(), List.of(),
                Resources.READY.equals(st.getPhase()) ? RecordState.READY : RecordState.CREATING,
                instant(st.getCreatedAt()), orEmpty(st.getAttributes()));
    }

    /**
     * The node's report as a record: READY once taken, and ready to use when, besides, its backup
     * (if it has a target) is stored.
     */
    public static SnapshotRecord snapshotRecord(StrataSnapshot snap) {
        StrataSnapshotStatus st = snap.getStatus() == null ? new StrataSnapshotStatus() : snap.getStatus();
        boolean taken = Resources.READY.equals(st.getPhase());
        return new SnapshotRecord(snap.getMetadata().getName(), snap.getSpec().getName(),
                snap.getSpec().getSourceVolume(), st.getEngine(), st.getSizeBytes(), null,
                taken ? RecordState.READY : RecordState.CREATING, instant(st.getCreatedAt()), backup(st));
    }

    /** The status's account of a snapshot's backup; the reverse of {@link #backup(StrataSnapshotStatus)}. */
    public static void reportBackup(StrataSnapshotStatus st, BackupRef backup) {
        st.setBackupUrl(backup == null ? null : backup.url());
        st.setBackupPhase(backupPhase(backup));
        boolean failedLast = backup != null && (backup.phase() == BackupRef.Phase.FAILED || !backup.code().isEmpty());
        st.setBackupErrorCode(failedLast ? backup.code() : null);
        st.setBackupError(failedLast ? backup.message() : null);
    }

    /** How a status names a backup's phase (Uploading, Stored, Failed); null for a snapshot with none. */
    private static String backupPhase(BackupRef backup) {
        return backup == null ? null : switch (backup.phase()) {
            case UPLOADING -> BACKUP_UPLOADING;
            case STORED -> BACKUP_STORED;
            case FAILED -> BACKUP_FAILED;
        };
    }

    private static BackupRef backup(StrataSnapshotStatus st) {
        String url = st.getBackupUrl();
        int hash = url == null ? -1 : url.lastIndexOf('#');
        if (hash < 0) {
            return null;
        }
        BackupRef ref = BackupRef.uploading(url.substring(0, hash), url.substring(hash + 1));
        if (BACKUP_STORED.equals(st.getBackupPhase())) {
            return ref.stored();
        }
        boolean failed = BACKUP_FAILED.equals(st.getBackupPhase());
        if (!failed && st.getBackupError() == null) {
            return ref;
        }
        // a status written before backupError was (2026-12): its message says why
        BackupRef lastFailed = ref.failed(st.getBackupErrorCode(), Objects.requireNonNullElse(st.getBackupError(),
                Objects.requireNonNullElse(st.getMessage(), "")));
        return failed ? lastFailed : lastFailed.retrying();
    }

    /** The volume condition from the Healthy condition; healthy until the node says otherwise. */
    public static VolumeHealth health(StrataVolumeStatus status) {
        return Resources.condition(status == null ? null : status.getConditions(), Resources.CONDITION_HEALTHY)
                .filter(c -> "False".equals(c.getStatus()))
                .map(c -> VolumeHealth.abnormal(c.getMessage()))
                .orElse(VolumeHealth.OK);
    }

    public static EngineCapacity engineCapacity(EngineTraits t, Capacity c, long allocatedBytes) {
        EngineCapacity e = new EngineCapacity();
        e.setName(t.name());
        e.setAllocatableBytes(c.availableBytes());
        e.setCapacityBytes(c.availableBytes() + allocatedBytes);
        e.setMaximumVolumeBytes(c.maximumVolumeBytes());
        e.setMinimumVolumeBytes(c.minimumVolumeBytes());
        e.setAccessTypes(names(t.accessTypes()));
        e.setAccessModes(names(t.accessModes()));
        e.setFsTypes(t.fsTypes().stream().sorted().toList());
        e.setParameterKeys(t.parameterKeys().stream().sorted().toList());
        e.setMutableParameterKeys(t.mutableParameterKeys().stream().sorted().toList());
        e.setNodeExpansionRequired(t.nodeExpansionRequired());
        return e;
    }

    public static EngineTraits traits(EngineCapacity e) {
        return new EngineTraits(e.getName(),
                orEmpty(e.getAccessTypes()).stream().map(AccessType::valueOf).collect(Collectors.toSet()),
                orEmpty(e.getAccessModes()).stream().map(AccessMode::valueOf).collect(Collectors.toSet()),
                Set.copyOf(orEmpty(e.getFsTypes())), Set.copyOf(orEmpty(e.getParameterKeys())),
                Set.copyOf(orEmpty(e.getMutableParameterKeys())), e.isNodeExpansionRequired());
    }

    public static Capacity capacity(EngineCapacity e) {
        return new Capacity(e.getAllocatableBytes(), e.getMaximumVolumeBytes(), e.getMinimumVolumeBytes());
    }

    private static List<String> names(Collection<? extends Enum<?>> values) {
        return values.stream().map(Enum::name).sorted().toList();
    }

    private static AccessType accessType(StrataVolumeSpec s) {
        return Resources.BLOCK.equals(s.getVolumeMode()) ? AccessType.BLOCK : AccessType.MOUNT;
    }

    private static ContentSourceRef source(ContentSource source) {
        if (source == null) {
            return null;
        }
        ContentSourceRef ref = new ContentSourceRef();
        ref.setKind(source.kind() == ContentSource.Kind.SNAPSHOT ? Resources.SOURCE_SNAPSHOT : Resources.SOURCE_VOLUME);
        ref.setId(source.id());
        return ref;
    }

    public static ContentSource source(ContentSourceRef ref) {
        if (ref == null) {
            return null;
        }
        return Resources.SOURCE_SNAPSHOT.equals(ref.getKind()) ? ContentSource.snapshot(ref.getId())
                : ContentSource.volume(ref.getId());
    }

    private static Instant instant(String text) {
        return text == null ? Instant.EPOCH : Instant.parse(text);
    }

    private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
        return map == null ? Map.of() : map;
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
