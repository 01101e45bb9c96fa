package dev.strata.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where this node has each volume staged and published, which {@code umount} and {@code volume rm
 * --force} undo, and where {@code mount} stages a volume that is not staged yet. A Strata driver's
 * own records answer when the driver names them ({@link DriverRecords}); for any other driver,
 * stratactl's records of its own mounts ({@link PublicationRecord}). Opening takes stratactl's lock,
 * held until close, so that concurrent runs cannot both decide they are a volume's last user.
 */
interface Placements extends AutoCloseable {
    /** The path the volume is staged at on this node, if it is staged. */
    Optional<Path> stagingPath(String volumeId) throws IOException;

    /** The paths the volume is published at on this node. */
    List<String> targets(String volumeId) throws IOException;

    /** Where stratactl stages a volume that is not staged yet (its to remove after unstaging). */
    Path newStagingDir(String volumeId);

    /** Notes a publication made (nothing to do where the driver keeps the records). */
    void published(String volumeId, String target) throws IOException;

    /** Notes a publication undone (nothing to do where the driver keeps the records). */
    void unpublished(String volumeId, String target) throws IOException;

    @Override
    void close() throws IOException;

    static Placements open(CsiClient client, Path stateDir) throws IOException {
        Optional<DriverRecords> records = DriverRecords.of(client);
        PublicationRecord own = PublicationRecord.open(stateDir);
        return records.<Placements>map(r -> new DriverPlacements(r, own)).orElse(own);
    }

    /** A Strata driver's records, read; stratactl's state directory only for its lock and new stagings. */
    final class DriverPlacements implements Placements {
        private final DriverRecords records;
        private final PublicationRecord own;

        DriverPlacements(DriverRecords records, PublicationRecord own) {
            this.records = records;
            this.own = own;
        }

        @Override
        public Optional<Path> stagingPath(String volumeId) throws IOException {
            return Optional.ofNullable(records.nodeUse(volumeId).stagingPath()).map(Path::of);
        }

        @Override
        public List<String> targets(String volumeId) throws IOException {
            return records.nodeUse(volumeId).targets();
        }

        @Override
        public Path newStagingDir(String volumeId) {
            return own.newStagingDir(volumeId);
        }

        @Override
        public void published(String volumeId, String target) {
            // the driver recorded it before it mounted
        }

        @Override
        public void unpublished(String volumeId, String target) {
            // the driver forgot it after it unmounted
        }

        @Override
        public void close() throws IOException {
            own.close();
        }
    }
}
