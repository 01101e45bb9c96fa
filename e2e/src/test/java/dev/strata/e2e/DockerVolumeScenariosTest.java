package dev.strata.e2e;

import static dev.strata.e2e.Runc.Mount.rw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.e2e.Kubelet.Pv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The scenarios on the engines this host has (dir, shared, overlay, hostpath), and the two that only
 * hostpath volumes have: a host directory and a single host file shared with containers.
 */
class DockerVolumeScenariosTest extends VolumeScenarios {
    @Override
    Stream<String> engines() {
        return Stream.of("dir", "shared", "overlay", "hostpath");
    }

    @Override
    String inlineEngine() {
        return "overlay"; // the default --ephemeral-engine
    }

    @Test
    void aHostDirectoryReceivesAContainersLogsAndReadOnlyRefusesWrites() throws Exception {
        Path logs = Files.createDirectories(driver.hostRoot().resolve("app-logs"));
        Pv pv = Kubelet.existing("app-logs", logs); // docker run -v /host/app-logs:/logs
        kubelet.stage(pv);
        Path rw = kubelet.publish(pv, "pod-logger", false);
        runc.start("logger", "i=0; while :; do echo line-$i >> /logs/app.log; i=$((i+1)); usleep 20000; done",
                rw(rw, "/logs"));
        Path log = logs.resolve("app.log");
        await(() -> lines(log) >= 5, () -> "the host read no log lines");
        int seen = lines(log);
        await(() -> lines(log) > seen, () -> "the log stopped growing");
        assertEquals("running", runc.status("logger"), "the host read the logs while the container ran");
        assertEquals("line-0", Files.readAllLines(log).get(0));

        // the same directory published read-only (docker's :ro); the container's own mount is read-write
        Path ro = kubelet.publish(pv, "pod-reader", true);
        Runc.Result refused = runc.run("reader", "head -1 /logs/app.log && echo x > /logs/intruder",
                rw(ro, "/logs"));
        assertNotEquals(0, refused.exit(), refused::toString);
        assertEquals("line-0\n", refused.stdout(), refused::toString);
        assertTrue(refused.stderr().contains("Read-only file system"), refused::toString);
        assertFalse(Files.exists(logs.resolve("intruder")));

        runc.delete("logger");
        kubelet.unpublish(pv.handle(), ro);
        kubelet.unpublish(pv.handle(), rw);
        kubelet.unstage(pv);
        assertTrue(lines(log) > seen, "the host directory and its logs stay");
    }

    @Test
    void aSingleHostFileIsUpdatedFromInside() throws Exception {
        Path conf = Files.writeString(driver.hostRoot().resolve("app.conf"), "port=80\n");
        Pv pv = Kubelet.existing("app-conf", conf); // docker run -v /host/app.conf:/etc/app.conf
        kubelet.stage(pv);
        Path file = kubelet.publish(pv, "pod-app", false);
        assertTrue(Files.isRegularFile(file), "a file volume is published as a file");
        assertSaw("port=80\nport=8080\n", runc.run("editor",
                "cat /etc/app.conf && echo port=8080 > /etc/app.conf && cat /etc/app.conf",
                new Runc.Mount(file, "/etc/app.conf", false)));
        assertEquals("port=8080\n", Files.readString(conf), "the host file itself was updated");
        kubelet.unpublish(pv.handle(), file);
        kubelet.unstage(pv);
        assertEquals("port=8080\n", Files.readString(conf));
    }
}
