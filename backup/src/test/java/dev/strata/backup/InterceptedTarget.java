package dev.strata.backup;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/** A target that fails every put after the first {@code allowedPuts}, as a backup cut off part-way. */
final class FailingTarget implements BackupTarget {
    private final BackupTarget delegate;
    private int allowedPuts;

    FailingTarget(BackupTarget delegate, int allowedPuts) {
        this.delegate = delegate;
        this.allowedPuts = allowedPuts;
    }

    @Override
    public String url() {
        return delegate.url();
    }

    @Override
    public void put(String key, byte[] data) throws IOException {
        if (allowedPuts-- <= 0) {
            throw new IOException("injected failure writing " + key);
        }
        delegate.put(key, data);
    }

    @Override
    public byte[] get(String key) throws IOException {
        return delegate.get(key);
    }

    @Override
    public boolean exists(String key) throws IOException {
        return delegate.exists(key);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public Instant modified(String key) throws IOException {
        return delegate.modified(key);
    }

    @Override
    public void delete(String key) throws IOException {
        delegate.delete(key);
    }
}
