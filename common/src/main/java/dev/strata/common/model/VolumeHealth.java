package dev.strata.common.model;

/** The CSI volume condition: abnormal with a message that says why, or healthy. */
public record VolumeHealth(boolean abnormal, String message) {
    public static final VolumeHealth OK = new VolumeHealth(false, "healthy");

    public static VolumeHealth abnormal(String message) {
        return new VolumeHealth(true, message);
    }
}
