package dev.strata.e2e;

import dev.strata.node.sys.DeviceMapper;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;

/**
 * The scenarios on the thin engine: ext4 on dm-thin devices of a pool the driver makes on two sparse
 * files. Device-mapper exists only in the VM stage (vm/README.md); runc runs there too (the guest
 * chroots into this host's root, with cgroup2 mounted).
 */
@Tag("vm")
class ThinScenariosVmTest extends VolumeScenarios {
    @Override
    String[] driverArgs() {
        return new String[] {"--thin-pool-dir", "${root}/pool", "--thin-pool-size", "2Gi", "--ephemeral-engine", "thin"};
    }

    @Override
    String unavailable() {
        if (!DeviceMapper.available()) {
            return "needs device-mapper: run it in the VM, vm/README.md";
        }
        return super.unavailable();
    }

    @Override
    Stream<String> engines() {
        return Stream.of("thin");
    }

    @Override
    String inlineEngine() {
        return "thin";
    }

    /** After the driver stopped: its pool and thin devices, and the loop devices under the pool. */
    @Override
    void afterDriverStopped() {
        Runc.run(List.of("dmsetup", "--verifyudev", "remove_all"));
        Runc.run(List.of("losetup", "-D"));
    }
}
