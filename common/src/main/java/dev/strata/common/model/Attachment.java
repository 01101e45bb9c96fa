package dev.strata.common.model;

/** A ControllerPublish: the volume is made available to a node, read-only or not. */
public record Attachment(String nodeId, boolean readOnly, AccessMode mode) {}
