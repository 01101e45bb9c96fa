# One image, two entrypoints: `strata controller` (the Deployment, runs as non-root) and
# `strata node` (the DaemonSet, privileged). Built from the Maven build in a first stage.
#   docker build -t ghcr.io/strata-csi/strata:0.1.0 .
# Without Docker, `bin/cluster images` builds the same image from this file's content: the
# packages of image/packages on Debian bookworm (debootstrap), the jar of the Maven build,
# bin/strata, this file's ENV and ENTRYPOINT lines, and the class-data-sharing step below.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q package -DskipTests -Dvm.skip=true -pl driver -am

FROM debian:bookworm-slim
# The tools the engines run and a JRE: image/packages says what each is for.
COPY image/packages /tmp/packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(grep -v '^#' /tmp/packages) \
 && rm -rf /var/lib/apt/lists/* /tmp/packages
COPY --from=build /src/driver/target/strata.jar /opt/strata/driver/target/strata.jar
COPY bin/strata /opt/strata/bin/strata
# Class data sharing archive of the driver's own classes: faster start, less memory.
ENV STRATA_JAVA_OPTS="-XX:SharedArchiveFile=/opt/strata/strata.jsa -Xshare:auto"
RUN java -XX:ArchiveClassesAtExit=/opt/strata/strata.jsa -jar /opt/strata/driver/target/strata.jar --version || true
ENTRYPOINT ["/opt/strata/bin/strata"]
