package dev.strata.common.model;

/** What a new volume starts from: a snapshot or another volume (a clone). */
public record ContentSource(Kind kind, String id) {
    public enum Kind {
        SNAPSHOT,
        VOLUME
    }

    public static ContentSource snapshot(String id) {
        return new ContentSource(Kind.SNAPSHOT, id);
    }

    public static ContentSource volume(String id) {
        return new ContentSource(Kind.VOLUME, id);
    }
}
