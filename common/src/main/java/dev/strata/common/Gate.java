package dev.strata.common;

import io.grpc.Status;

/**
 * Holds something that becomes usable only after start-up work (recovering storage, checking a pool).
 * Until then every call that needs it gets UNAVAILABLE, which CSI callers retry, and Probe says not ready.
 */
public final class Gate<T> {
    private volatile T value;
    private final String what;

    public Gate(String what) {
        this.what = what;
    }

    public void open(T ready) {
        this.value = ready;
    }

    public boolean isOpen() {
        return value != null;
    }

    public T get() {
        T v = value;
        if (v == null) {
            throw new CsiException(Status.Code.UNAVAILABLE, what + " is still initialising");
        }
        return v;
    }
}
