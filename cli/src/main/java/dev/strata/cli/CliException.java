package dev.strata.cli;

/** A local failure (bad input, missing file, unknown name): printed as one line, exit code 1. */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}
