package dev.strata.node.engine.hostpath;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.common.CsiException;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The fuzzer's way into the package: a pattern and the PVC's values, turned into a host path. */
public final class HostPathFuzzing {
    private HostPathFuzzing() {}

    /** Whatever path comes out lies below the root, in plain components that are not Strata's own. */
    public static void pattern(Path root, String namespace, String name, String pattern) {
        HostPaths paths = new HostPaths(List.of(root));
        try {
            HostPaths.HostPath p = paths.volumePath(Map.of(HostPaths.PATH_PATTERN, pattern,
                    "csi.storage.k8s.io/pvc/namespace", namespace, "csi.storage.k8s.io/pvc/name", name), "pv-x");
            assertEquals(root, p.root());
            assertFalse(p.relative().toString().isEmpty());
            assertTrue(p.absolute().normalize().startsWith(root) && !p.absolute().normalize().equals(root), p.toString());
            for (Path part : p.relative()) {
                String s = part.toString();
                assertFalse(s.equals("..") || s.equals(".") || s.startsWith(HostPaths.RESERVED_PREFIX)
                        || s.indexOf('\0') >= 0, p.toString());
            }
            assertEquals(p, paths.recorded(p.toString()));
        } catch (CsiException e) {
            assertEquals(Status.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
        }
    }
}
