#!/usr/bin/env bash
# The first backup of backup-vs-restic.sh alone, for comparing drivers run after run: the same tree
# (100,000 small files of 1-8 KiB and four of 64 MiB), the same encrypted file:// target and the
# same restic repository (format 2) read from the same snapshot right after Strata's upload. As
# root; scratch under /var/tmp/bench-first. STRATA_JAR picks the driver (bin/strata's own),
# STRATA_JAVA_OPTS goes to it (a GC log: -Xlog:gc:file=...). Prints two lines: Strata's upload
# (the driver's own time, from its log) and restic's wall time.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-first
. docs/bench/encrypted-driver.sh
$ctl --endpoint "$e" volume create data --size 10Gi > /dev/null
$ctl --endpoint "$e" mount data "$work/mnt" > /dev/null
python3 docs/bench/backup-tree.py "$work/mnt"
sync
$ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
restic init --repo "$work/restic" --repository-version 2 > /dev/null
mkdir -p "$work/view"
sync; echo 3 > /proc/sys/vm/drop_caches
$ctl --endpoint "$e" snapshot create data --name first --to "file://$work/strata" > "$work/first.out"
id=$(head -1 "$work/first.out")
echo "strata first: $(grep "snapshot $id stored" "$work/driver.log" | sed 's/.*stored in [^ ]* in //')"
mount --bind "$work/data/engines/dir/snapshots/$id" "$work/view"
start=$(date +%s%N)
restic backup --repo "$work/restic" --host bench --tag first --ignore-inode --ignore-ctime "$work/view" \
  > "$work/restic-first.out"
echo "restic first: $(( ($(date +%s%N) - start) / 1000000 )) ms"
umount "$work/view"
