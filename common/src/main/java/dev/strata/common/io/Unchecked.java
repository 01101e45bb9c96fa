package dev.strata.common.io;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one way a gRPC handler, which cannot throw checked exceptions, calls storage that can: an
 * {@link IOException} leaves as an {@link UncheckedIOException}, which the error mapper unwraps and
 * maps like the I/O error itself.
 */
public final class Unchecked {
    private Unchecked() {}

    /** An I/O step with no result. */
    public interface IoAction {
        void run() throws IOException;
    }

    /** An I/O step with a result. */
    public interface IoSupplier<T> {
        T get() throws IOException;
    }

    public static void run(IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static <T> T get(IoSupplier<T> supplier) {
        try {
            return supplier.get();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
