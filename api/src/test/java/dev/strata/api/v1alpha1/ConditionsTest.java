package dev.strata.api.v1alpha1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.common.model.VolumeHealth;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Healthy condition as the node writes it and as the controller reads it back. */
class ConditionsTest {
    @Test
    void theControllerReadsBackWhatTheNodeWrote() {
        StrataVolumeStatus status = new StrataVolumeStatus();
        assertEquals(VolumeHealth.OK, Conversions.health(null), "no status yet: healthy");
        assertEquals(VolumeHealth.OK, Conversions.health(status), "no condition yet: healthy");

        status.setConditions(Resources.withCondition(List.of(), Resources.CONDITION_READY, true, "Ready", "", 1L));
        status.setConditions(Resources.withCondition(status.getConditions(), Resources.CONDITION_HEALTHY, false,
                "Abnormal", "host path /h is missing", 1L));
        assertEquals(VolumeHealth.abnormal("host path /h is missing"), Conversions.health(status));
        assertEquals("Ready", Resources.condition(status.getConditions(), Resources.CONDITION_READY)
                .orElseThrow().getReason());

        status.setConditions(Resources.withCondition(status.getConditions(), Resources.CONDITION_HEALTHY, true,
                "Healthy", "", 1L));
        assertEquals(VolumeHealth.OK, Conversions.health(status));
        assertEquals(2, status.getConditions().size(), "one condition of each type");
    }
}
