package dev.strata.backup;

import dev.strata.testkit.S3Server;

/** S3 targets on a test server with its credentials (production takes the SDK's default chain). */
final class S3TestTargets {
    private S3TestTargets() {}

    static S3Target target(String url, int pageSize) throws BackupException {
        return new S3Target(S3Location.parse(url), S3Server.CREDENTIALS, pageSize);
    }

    static S3Target target(String url) throws BackupException {
        return target(url, S3Target.MAX_PAGE);
    }
}
