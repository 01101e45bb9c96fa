package dev.strata.common.grpc;

import java.nio.file.Path;

/**
 * A CSI endpoint. Only Unix domain sockets are served: {@code unix:///abs/path}, {@code unix:/abs/path}
 * or a bare absolute path. A server's socket is its owner's alone ({@code 0600}), or also a
 * {@code group}'s ({@code 0660}) when one is named.
 */
public record Endpoint(Path socketPath, String group) {
    public Endpoint(Path socketPath) {
        this(socketPath, null);
    }

    /** The same socket, open to {@code group} too (null: its owner only). */
    public Endpoint withGroup(String group) {
        return new Endpoint(socketPath, group);
    }

    public static final String ENV = "CSI_ENDPOINT";

    public static Endpoint parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("endpoint: empty (give --endpoint unix:///path/csi.sock or set "
                    + ENV + ")");
        }
        String path;
        if (text.startsWith("unix://")) {
            path = text.substring("unix://".length());
        } else if (text.startsWith("unix:")) {
            path = text.substring("unix:".length());
        } else if (text.contains("://")) {
            throw new IllegalArgumentException("endpoint: only unix:// sockets are supported, got " + text);
        } else {
            path = text;
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("endpoint: socket path must be absolute, got " + text);
        }
        return new Endpoint(Path.of(path).normalize());
    }

    /**
     * The endpoint a command uses: {@code option} (its --endpoint), else {@code $CSI_ENDPOINT} unless
     * that is unset or blank (an empty variable in a manifest means none), else {@code fallback}.
     */
    public static Endpoint resolve(String option, String fallback) {
        return parse(option != null ? option : resolveEnv(System.getenv(ENV), fallback));
    }

    static String resolveEnv(String env, String fallback) {
        return env != null && !env.isBlank() ? env : fallback;
    }

    @Override
    public String toString() {
        return "unix://" + socketPath;
    }
}
