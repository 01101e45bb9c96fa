package dev.strata.driver.archfixture.up;

import dev.strata.driver.archfixture.down.Down;

/** ArchitectureTest's cycle: this package and {@code down} use each other. */
public final class Up {
    Down down;
}
