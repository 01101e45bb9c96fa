package dev.strata.e2e;

import static dev.strata.e2e.Runc.Mount.rw;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.e2e.Kubelet.Pv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The node plugin dies with SIGKILL while containers use its volumes: the containers keep reading and
 * writing (their mounts do not depend on the process), and the driver restarted on the same data
 * serves the volumes again: new pods, then unpublish, unstage and delete, with nothing left behind.
 */
class DriverKillTest extends E2eFixture {
    private static final List<String> ENGINES = List.of("dir", "shared", "overlay", "hostpath");
    private static final String WRITER = "i=0; while :; do echo $i >> /data/log; i=$((i+1)); usleep 10000; done";

    @Test
    void containersKeepTheirVolumesThroughKill9AndTheRestartedDriverServesThem() throws Exception {
        List<Pv> pvs = new ArrayList<>();
        for (String engine : ENGINES) {
            Pv pv = kubelet.create("busy-" + engine, engine);
            kubelet.stage(pv);
            runc.start("app-" + engine, WRITER, rw(kubelet.publish(pv, "pod-" + engine, false), "/data"));
            pvs.add(pv);
        }
        for (String engine : ENGINES) {
            awaitGrowing("app-" + engine);
        }

        driver.kill9();
        for (String engine : ENGINES) {
            awaitGrowing("app-" + engine);
            assertSaw("written while the driver was dead\n", runc.exec("app-" + engine,
                    "echo written while the driver was dead > /data/note && cat /data/note"));
        }

        driver.restart();
        for (Pv pv : pvs) {
            String app = "app-" + pv.engine();
            awaitGrowing(app);
            assertEquals("running", runc.status(app));
            // a second pod of the same volume, published by the new driver, sees what the first wrote
            Path again = kubelet.publish(pv, "pod-after-" + pv.engine(), false);
            assertSaw("written while the driver was dead\n", runc.run("reader-" + pv.engine(), "cat /data/note",
                    rw(again, "/data")));
            runc.delete(app);
            kubelet.unpublish(pv.handle(), again);
            kubelet.unpublish(pv.handle(), kubelet.target(pv, "pod-" + pv.engine()));
            kubelet.unstage(pv);
            kubelet.delete(pv);
        }
        for (Pv pv : pvs) {
            assertNothingLeftOf(pv.handle());
        }
    }

    /** Waits until the container's log has grown, read from inside the container. */
    private void awaitGrowing(String container) {
        int before = logLines(container);
        await(() -> logLines(container) > before, () -> container + " stopped writing: "
                + runc.exec(container, "tail -3 /data/log"));
    }

    private int logLines(String container) {
        Runc.Result r = runc.exec(container, "wc -l < /data/log");
        return r.exit() == 0 ? Integer.parseInt(r.stdout().strip()) : 0;
    }
}
