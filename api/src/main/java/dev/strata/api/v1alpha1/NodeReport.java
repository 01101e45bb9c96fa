package dev.strata.api.v1alpha1;

/** What a node reports on a volume or a snapshot it was asked for: where it stands and its last error. */
public interface NodeReport {
    String getPhase();

    String getErrorCode();

    String getMessage();
}
