package dev.strata.common;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Facts fixed at build time: the driver's name and its version. */
public final class BuildInfo {
    public static final String DRIVER_NAME = "strata.csi.dev";
    public static final String TOPOLOGY_KEY = "topology.strata.csi.dev/node";
    public static final String VERSION = loadVersion();

    private BuildInfo() {}

    private static String loadVersion() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            Properties props = new Properties();
            if (in != null) {
                props.load(in);
            }
            String version = props.getProperty("version", "");
            return version.isEmpty() || version.startsWith("${") ? "0.0.0-dev" : version;
        } catch (IOException e) {
            return "0.0.0-dev";
        }
    }
}
