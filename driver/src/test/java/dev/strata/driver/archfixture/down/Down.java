package dev.strata.driver.archfixture.down;

import dev.strata.driver.archfixture.up.Up;

/** ArchitectureTest's cycle: this package and {@code up} use each other. */
public final class Down {
    Up up;
}
