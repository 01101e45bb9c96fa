package dev.strata.common;

import io.grpc.Status;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Holds something that becomes usable only after start-up work (recovering storage, checking a pool).
 * Until then every call that needs it gets UNAVAILABLE, which CSI callers retry, and Probe says not ready.
 */
public final class Gate<T> {
    private final String what;
    /** Where a part's gate reads from (the whole's value, or null while that is closed); null for a whole. */
    private final Supplier<T> source;
    private volatile T value;

    public Gate(String what) {
        this(what, null);
    }

    private Gate(String what, Supplier<T> source) {
        this.what = what;
        this.source = source;
    }

    public void open(T ready) {
        if (source != null) {
            throw new IllegalStateException("a part's gate opens with its whole");
        }
        this.value = ready;
    }

    /**
     * A gate for one part of what this one will hold, open exactly when this one is: services are made
     * before storage opens, and each is handed only the part it uses.
     */
    public <U> Gate<U> part(Function<? super T, ? extends U> part) {
        return new Gate<>(what, () -> {
            T whole = current();
            return whole == null ? null : part.apply(whole);
        });
    }

    public boolean isOpen() {
        return current() != null;
    }

    public T get() {
        T v = current();
        if (v == null) {
            throw new CsiException(Status.Code.UNAVAILABLE, what + " is still initialising");
        }
        return v;
    }

    private T current() {
        return source == null ? value : source.get();
    }
}
