package dev.strata.common.model;

import java.util.Map;
import java.util.TreeSet;

/**
 * The secrets a call carries: in a cluster, the data of the Secret a StorageClass or
 * VolumeSnapshotClass names ({@code csi.storage.k8s.io/provisioner-secret-name},
 * {@code …/snapshotter-secret-name}). They are passed on to what needs them and never recorded;
 * {@link #toString} shows only their keys, so a logged request never shows a value.
 */
public record Secrets(Map<String, String> values) {
    public static final Secrets NONE = new Secrets(Map.of());

    public Secrets {
        values = Map.copyOf(values);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    @Override
    public String toString() {
        return "Secrets" + new TreeSet<>(values.keySet());
    }
}
