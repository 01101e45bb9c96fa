#!/usr/bin/env bash
# Issue 16's dir target, side by side with restic (Debian's package) in one run: a volume holding
# 100,000 small files (1-8 KiB) and four large ones (64 MiB each, random), backed up to an encrypted
# file:// target by Strata (stratactl snapshot create --to; the upload's own time and bytes from the
# driver's log) and to a restic repository (format 2: compressed) in a directory by restic, from the
# same snapshot tree (both read it from a warm page cache: Strata's upload starts right after the
# cut's copy, restic right after Strata's upload);
# then 1% of the small files and one large file change (4 KiB overwritten in its middle), and both
# back up again. Then the first backup is restored on "another host" (a second driver with its own
# data directory and the same key) beside restic's restore of its first snapshot and a plain
# `cp -a` of the same tree on the same disk (what the disk can move; each followed by sync, each
# from a cold page cache). As root; scratch under /var/tmp/bench-backup. STRATA_JAVA_OPTS goes to
# both drivers (-Dstrata.backup.crypto=jdk: the JDK's own hash and cipher instead of NSS). Prints
# one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-backup
. docs/bench/dir-tree-round.sh

sync; echo 3 > /proc/sys/vm/drop_caches
round first
echo "strata's crypto: $(grep -o 'backups hash and encrypt with .*' "$work/driver.log" | head -1)"
echo "strata driver after the first backup: $(grep -E 'VmHWM|VmRSS' /proc/$driver/status | tr -s ' \t' ' ' | tr '\n' ' ')"
python3 - "$work/mnt" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(17)
for n in rnd.sample(range(100000), 1000):
    with open(f"{root}/small/{n // 1000:03d}/{n % 1000:04d}.txt", "r+b") as f:
        f.write(rnd.randbytes(512))
with open(f"{root}/large/0.bin", "r+b") as f:
    f.seek(32 << 20)
    f.write(os.urandom(4096))
PY
sync; echo 3 > /proc/sys/vm/drop_caches
round second
$ctl --endpoint "$e" umount data "$work/mnt" > /dev/null

# The restore, on a second driver that shares nothing with the first but the target and the key.
bin/strata standalone --endpoint "unix://$work/b.sock" --data-dir "$work/data-b" --node-id bench-b \
  --backup-key-file "$work/key" > "$work/driver-b.log" 2>&1 &
driver_b=$!
trap 'kill $driver $driver_b 2>/dev/null; wait $driver $driver_b 2>/dev/null || true' EXIT
for _ in $(seq 300); do [[ -S $work/b.sock ]] && break; sleep 0.1; done
first=$(head -1 "$work/first.out")
. docs/bench/cold-timed.sh
timed "strata restore (stratactl volume create --from-backup, wall)" \
  $ctl --endpoint "unix://$work/b.sock" --timeout 1800 volume create copy --size 10Gi --from-backup "file://$work/strata#$first"
echo "strata restore (driver's own time): $(grep "restored from" "$work/driver-b.log" | sed 's/.* in \([0-9]* ms\).*/\1/')"
timed "restic restore" restic restore --repo "$work/restic" --target "$work/restic-restore" \
  "$(restic snapshots --repo "$work/restic" --tag first --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
timed "cp -a of the same tree (the disk's limit)" cp -a "$work/data/engines/dir/snapshots/$first" "$work/cp-copy"
echo "restored: $(du -sb "$work/data-b/engines/dir/volumes" | cut -f1) bytes (strata), $(du -sb "$work/restic-restore" | cut -f1) (restic), $(du -sb "$work/cp-copy" | cut -f1) (cp)"
