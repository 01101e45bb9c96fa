#!/usr/bin/env bash
# Issue 16's thin target, run in the VM (device-mapper), side by side with restic (Debian's package):
#   STRATA_VM_TIMEOUT=3600 vm/run docs/bench/thin-backup.sh   # figures in vm/target/bench-thin-backup.txt
# A 4 GiB raw block thin volume of one standalone driver, filled with random data; backed up to a
# file:// target by Strata (stratactl snapshot create --to: the upload's own time, bytes read and
# stored from the driver's log) and, from the same device, by restic (backup --stdin, a compressed
# format-2 repository in a directory). Then 1% of the volume changes, 64 KiB pool chunks scattered
# over all of it (655 of them), and both back up again: Strata reads what thin_delta says changed,
# restic reads the whole device and deduplicates. Last, the second backup is restored onto a new
# volume (stratactl volume create --from-backup) beside restic's restore of its second snapshot.
# Under emulation the restores take longer than all before them; to leave them out:
#   STRATA_VM_TIMEOUT=3000 vm/run bash -c "RESTORE=0 bash docs/bench/thin-backup.sh"
set -euo pipefail
repo=$(pwd); out=$repo/vm/target/bench-thin-backup.txt; B=/tmp/tb
rm -rf $B; mkdir -p $B /run/tb; : > $out
export CSI_ENDPOINT=unix:///run/tb/csi.sock RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$B/restic-cache
bin/strata standalone --endpoint $CSI_ENDPOINT --data-dir $B/data --thin-pool-dir $B/pool --thin-pool-size 16Gi \
  --default-engine thin --node-id bench > $B/log 2>&1 &
trap 'kill %1 2>/dev/null; wait || true' EXIT
for i in $(seq 1 90); do [ -S /run/tb/csi.sock ] && break; sleep 1; done; sleep 3
. docs/bench/cold-timed.sh
ctl() { bin/stratactl --timeout 3600 "$@"; }
ctl volume create img --size 4Gi --block > /dev/null
dev=$(ctl volume inspect img | grep -o '/dev/mapper/strata-vol-[0-9a-f]*' | head -1)
dd if=/dev/urandom of=$dev bs=1M count=4096 oflag=direct status=none
restic init --repo $B/restic --repository-version 2 > /dev/null

round() { # NAME
  ctl snapshot create img --name $1 --to file://$B/strata > $B/$1.out
  local id; id=$(head -1 $B/$1.out)
  echo "strata $1: $(grep "snapshot $id stored" $B/log | sed 's/.*stored in [^ ]* in //')" >> $out
  echo "strata $1: target now $(du -sb $B/strata | cut -f1) bytes" >> $out
  sync; echo 3 > /proc/sys/vm/drop_caches
  local start; start=$(date +%s%N)
  restic backup --repo $B/restic --host bench --tag $1 --stdin --stdin-filename img.raw < $dev > $B/restic-$1.out
  echo "restic $1: $(( ($(date +%s%N) - start) / 1000000 )) ms: $(grep -E 'Added to the repo|processed' $B/restic-$1.out | tr '\n' ' ')" >> $out
  echo "restic $1: repository now $(du -sb $B/restic | cut -f1) bytes" >> $out
}

sync; echo 3 > /proc/sys/vm/drop_caches
round first
python3 - $dev <<'PY'
import os, random, sys
rnd = random.Random(16)
chunk = 64 * 1024
blocks = (4 << 30) // chunk
fd = os.open(sys.argv[1], os.O_WRONLY)
for b in rnd.sample(range(blocks), blocks // 100):
    os.pwrite(fd, os.urandom(chunk), b * chunk)
os.fsync(fd)
os.close(fd)
PY
sync; echo 3 > /proc/sys/vm/drop_caches
round second
[ "${RESTORE:-1}" = 1 ] || { cat $out; exit 0; }
second=$(head -1 $B/second.out) # a remote snapshot's backup is named after it
echo "$(timed "strata restore of second (stratactl volume create --from-backup, wall)" \
  ctl volume create copy --size 4Gi --block --from-backup "file://$B/strata#$second")" >> $out
echo "strata restore (driver's own time): $(grep "restored from" $B/log | sed 's/.* in \([0-9]* ms\).*/\1/')" >> $out
echo "$(timed "restic restore of second" restic restore --repo $B/restic --target $B/restic-restore \
  "$(restic snapshots --repo $B/restic --tag second --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')")" >> $out
copy=$(ctl volume inspect copy | grep -o '/dev/mapper/strata-vol-[0-9a-f]*' | head -1)
echo "restored bytes equal: $(cmp -s $copy $B/restic-restore/img.raw && echo yes || echo no)" >> $out
cat $out
