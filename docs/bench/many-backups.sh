#!/usr/bin/env bash
# What a backup's start costs as a target fills with backups, side by side with restic in one run:
# dir-tree-round.sh's volume (100,000 small files and four of 64 MiB) is snapshotted to an encrypted
# file:// target ROUNDS times (8 by default) without a change, each followed by restic on the same
# snapshot tree. Each round's upload reads its parent's manifest and learns what the target holds;
# before indexes, that was every manifest on the target, now it is the indexes and the manifests no
# index covers (the driver's log says how many of each, and how long it took). As root; scratch
# under /var/tmp/bench-many; STRATA_JAR picks the driver's jar (bin/strata).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-many
rounds=${ROUNDS:-8}
. docs/bench/dir-tree-round.sh
for n in $(seq "$rounds"); do
  round "r$n"
  echo "strata r$n: $(grep -o 'known from .*' "$work/driver.log" | tail -1)"
done
$ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
