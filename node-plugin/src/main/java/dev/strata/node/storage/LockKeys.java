package dev.strata.node.storage;

/**
 * The names under which storage operations lock the objects they touch in the node's
 * {@link dev.strata.common.LockTable}. The rule: every public storage operation takes the locks of
 * what it changes or reads from (all at once, so that it never waits holding one), and the helpers it
 * calls assume they are held. A lock that is taken answers ABORTED rather than waiting.
 */
public final class LockKeys {
    private LockKeys() {}

    public static String volume(String id) {
        return "volume:" + id;
    }

    public static String snapshot(String id) {
        return "snapshot:" + id;
    }

    static String group(String id) {
        return "group:" + id;
    }
}
