package dev.strata.common.launch;

import dev.strata.common.BuildInfo;
import picocli.CommandLine;

/** Reports the version baked in at build time. */
public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {BuildInfo.DRIVER_NAME + " " + BuildInfo.VERSION};
    }
}
