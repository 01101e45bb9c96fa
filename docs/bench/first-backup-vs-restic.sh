#!/usr/bin/env bash
# The first backup of backup-vs-restic.sh alone, for comparing drivers run after run: the same tree
# (100,000 small files of 1-8 KiB and four of 64 MiB), the same encrypted file:// target and the
# same restic repository (format 2) read from the same snapshot right after Strata's upload. As
# root; scratch under /var/tmp/bench-first. STRATA_JAR picks the driver (bin/strata's own),
# STRATA_JAVA_OPTS goes to it (a GC log: -Xlog:gc:file=...). Prints the round's lines: stratactl's
# wall time (cut and upload), Strata's upload (the driver's own time, from its log), restic's wall
# time, and the bytes each stored.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-first
. docs/bench/dir-tree-round.sh
sync; echo 3 > /proc/sys/vm/drop_caches
round first
$ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
