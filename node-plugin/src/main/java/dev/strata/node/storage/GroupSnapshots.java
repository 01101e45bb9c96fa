package dev.strata.node.storage;

import dev.strata.common.CrashPoint;
import dev.strata.common.CsiException;
import dev.strata.common.LockTable;
import dev.strata.common.model.GroupSnapshotRecord;
import dev.strata.common.port.GroupSnapshotter;
import dev.strata.common.model.Ids;
import dev.strata.common.model.RecordState;
import dev.strata.common.model.SnapshotRecord;
import dev.strata.common.model.VolumeRecord;
import dev.strata.node.engine.VolumeEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Group snapshots: the volumes of one engine cut together. The group's record and its members' are
 * written CREATING before the engine cuts, and settled READY after; a crash in between leaves records
 * that {@link Recovery} removes with {@link #remove}.
 */
final class GroupSnapshots implements GroupSnapshotter {
    private final Records records;
    private final Engines engines;
    private final LockTable locks;

    GroupSnapshots(Records records, Engines engines, LockTable locks) {
        this.records = records;
        this.engines = engines;
        this.locks = locks;
    }

    @Override
    public GroupSnapshotRecord createGroupSnapshot(String name, List<String> sourceVolumeIds,
            Map<String, String> parameters) {
        SnapshotParameters.refuse(parameters, "group snapshot");
        String id = Ids.groupSnapshotId(name);
        List<String> sources = sourceVolumeIds.stream().distinct().sorted().toList();
        List<String> keys = new ArrayList<>(List.of(LockKeys.group(id)));
        sources.forEach(v -> keys.add(LockKeys.volume(v)));
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            Optional<GroupSnapshotRecord> existing = records.groups().get(id);
            if (existing.isPresent()) {
                if (!existing.get().sourceVolumeIds().equals(sources)) {
                    throw CsiException.alreadyExists("name: a group snapshot named \"" + name
                            + "\" already exists for other volumes " + existing.get().sourceVolumeIds());
                }
                if (existing.get().state() == RecordState.READY) {
                    return existing.get();
                }
                remove(existing.get()); // left by a call that failed and could not undo itself: cut afresh
            }
            List<VolumeRecord> volumesToCut = new ArrayList<>();
            for (String v : sources) {
                volumesToCut.add(records.readyVolume(v).orElseThrow(() -> CsiException.notFound(
                        "source_volume_ids: volume " + v + " does not exist")));
            }
            String engineName = volumesToCut.get(0).engine();
            if (volumesToCut.stream().anyMatch(v -> !v.engine().equals(engineName))) {
                throw CsiException.failedPrecondition("source_volume_ids: the volumes use different engines and "
                        + "cannot be snapshotted together");
            }
            return cut(id, name, volumesToCut, engines.get(engineName));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private GroupSnapshotRecord cut(String id, String name, List<VolumeRecord> sources, VolumeEngine engine)
            throws IOException {
        Instant now = Instant.now();
        List<SnapshotRecord> members = new ArrayList<>();
        for (VolumeRecord v : sources) {
            String memberId = Ids.groupMemberSnapshotId(id, v.id());
            members.add(new SnapshotRecord(memberId, name + "/" + v.id(), v.id(), v.engine(), v.capacityBytes(), id,
                    RecordState.CREATING, now));
        }
        GroupSnapshotRecord group = new GroupSnapshotRecord(id, name, sources.stream().map(VolumeRecord::id).toList(),
                members.stream().map(SnapshotRecord::id).toList(), RecordState.CREATING, now);
        records.groups().put(group);
        for (SnapshotRecord m : members) {
            records.snapshots().put(m);
        }
        CrashPoint.reach("group.create.recorded");
        try {
            engine.snapshotGroup(members, sources);
        } catch (IOException | RuntimeException e) {
            try {
                remove(group);
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        for (SnapshotRecord m : members) {
            records.snapshots().put(m.withState(RecordState.READY));
        }
        GroupSnapshotRecord ready = group.withState(RecordState.READY);
        records.groups().put(ready);
        return ready;
    }

    /** Removes a group's snapshots and then the group, each record only after its storage. Locks held. */
    void remove(GroupSnapshotRecord group) throws IOException {
        records.groups().put(group.withState(RecordState.DELETING));
        for (String memberId : group.snapshotIds()) {
            Optional<SnapshotRecord> member = records.snapshots().get(memberId);
            if (member.isPresent()) {
                records.snapshots().put(member.get().withState(RecordState.DELETING));
                engines.get(member.get().engine()).deleteSnapshot(memberId);
                records.snapshots().remove(memberId);
            }
        }
        records.groups().remove(group.id());
    }

    @Override
    public void deleteGroupSnapshot(String groupSnapshotId, List<String> snapshotIds) {
        Optional<GroupSnapshotRecord> found = records.groups().get(groupSnapshotId);
        if (found.isEmpty()) {
            return;
        }
        // The members are locked too, so that no restore from one of them runs while it goes.
        List<String> keys = new ArrayList<>(List.of(LockKeys.group(groupSnapshotId)));
        found.get().snapshotIds().forEach(id -> keys.add(LockKeys.snapshot(id)));
        try (LockTable.Held held = locks.acquire(keys.toArray(String[]::new))) {
            found = records.groups().get(groupSnapshotId);
            if (found.isEmpty()) {
                return;
            }
            GroupSnapshotRecord group = found.get();
            if (!group.matches(snapshotIds)) {
                throw CsiException.invalidArgument("snapshot_ids", "do not match the snapshots of group "
                        + groupSnapshotId + " " + group.snapshotIds());
            }
            remove(group);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<GroupSnapshotRecord> findGroupSnapshot(String groupSnapshotId) {
        return records.groups().get(groupSnapshotId).filter(g -> g.state() == RecordState.READY);
    }
}
