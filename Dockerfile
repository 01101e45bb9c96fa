# One image, two entrypoints: `strata controller` (the Deployment, runs as non-root) and
# `strata node` (the DaemonSet, privileged). Built from the Maven build in a first stage.
#   docker build -t ghcr.io/strata-csi/strata:0.1.0 .
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q package -DskipTests -Dvm.skip=true -pl driver -am

FROM debian:bookworm-slim
# The tools the engines run: mount/losetup (util-linux), mkfs.ext4/resize2fs/e2fsck (e2fsprogs),
# mkfs.xfs/xfs_growfs/xfs_quota (xfsprogs), dmsetup, thin_check/thin_delta (thin-provisioning-tools),
# rsync (overlay snapshots), bubblewrap (copies of tenants' files run confined to them, docs/security.md),
# kmod (modprobe dm-thin-pool), and a JRE.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless util-linux mount e2fsprogs xfsprogs dmsetup thin-provisioning-tools rsync bubblewrap kmod \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/driver/target/strata.jar /opt/strata/driver/target/strata.jar
COPY bin/strata /opt/strata/bin/strata
# Class data sharing archive of the driver's own classes: faster start, less memory.
ENV STRATA_JAVA_OPTS="-XX:SharedArchiveFile=/opt/strata/strata.jsa -Xshare:auto"
RUN java -XX:ArchiveClassesAtExit=/opt/strata/strata.jsa -jar /opt/strata/driver/target/strata.jar --version || true
ENTRYPOINT ["/opt/strata/bin/strata"]
