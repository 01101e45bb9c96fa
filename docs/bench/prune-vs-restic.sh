#!/usr/bin/env bash
# Issue 16: giving space back after a backup goes, side by side with restic (Debian's package) in
# one run. The tree of backup-vs-restic.sh (backup-tree.py: 100,000 small files of 1-8 KiB and four
# large ones of 64 MiB) is backed up by Strata (stratactl snapshot create --to, an encrypted
# file:// target) and by restic (a format-2 repository in a directory, from the same snapshot tree);
# then 60% of the small files get new content and both back up again; then the first backup goes:
# `stratactl snapshot rm` (DeleteSnapshot: the backup's removal, its prune, and the repack of the
# packs it left more than half dead) against `restic forget --prune` (restic's defaults: it repacks
# until at most 5% of the repository is unused). Prints each one's wall time and what each store
# holds before and after, then re-reads every chunk of the second backup with
# `stratactl backup verify` (and `restic check --read-data`). As root; scratch under
# /var/tmp/bench-prune.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-prune
. docs/bench/encrypted-driver.sh
. docs/bench/cold-timed.sh
$ctl --endpoint "$e" volume create data --size 10Gi > /dev/null
$ctl --endpoint "$e" mount data "$work/mnt" > /dev/null
python3 docs/bench/backup-tree.py "$work/mnt"
restic init --repo "$work/restic" --repository-version 2 > /dev/null
mkdir -p "$work/view"

round() { # NAME: both back up the volume as it is now
  $ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
  $ctl --endpoint "$e" snapshot create data --name "$1" --to "file://$work/strata" > "$work/$1.out"
  local id; id=$(head -1 "$work/$1.out")
  mount --bind "$work/data/engines/dir/snapshots/$id" "$work/view"
  restic backup --repo "$work/restic" --host bench --tag "$1" --ignore-inode --ignore-ctime "$work/view" > /dev/null
  umount "$work/view"
  $ctl --endpoint "$e" mount data "$work/mnt" > /dev/null
}
sizes() { # WHEN
  echo "$1: strata target $(du -sb "$work/strata" | cut -f1) bytes ($(find "$work/strata/packs" -type f | wc -l) packs), restic repository $(du -sb "$work/restic" | cut -f1) bytes ($(find "$work/restic/data" -type f | wc -l) packs)"
}

round first
python3 - "$work/mnt" <<'PY'
import random, sys
root = sys.argv[1]
rnd = random.Random(18)
for n in rnd.sample(range(100000), 60000):
    path = f"{root}/small/{n // 1000:03d}/{n % 1000:04d}.txt"
    with open(path, "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 8192)))
PY
round second
$ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
sizes "after both backups"
first=$(head -1 "$work/first.out")
second=$(head -1 "$work/second.out")
timed "strata: the first backup removed (stratactl snapshot rm, wall)" $ctl --endpoint "$e" --timeout 1800 snapshot rm "$first"
echo "strata's log: $(grep -E 'repack of|prune of .* deleted' "$work/driver.log" | sed 's/^.*\(repack of\|prune of\)/\1/' | tr '\n' ' ')"
restic_first=$(restic snapshots --repo "$work/restic" --tag first --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
timed "restic: the first snapshot forgotten and pruned (restic forget --prune)" restic forget --repo "$work/restic" --prune "$restic_first"
sizes "after the first went"
timed "strata: every chunk of the second re-read (stratactl backup verify)" \
  $ctl backup verify --key-file "$work/key" "file://$work/strata#$second"
timed "restic: every pack re-read (restic check --read-data)" restic check --repo "$work/restic" --read-data
