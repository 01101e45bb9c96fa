#!/usr/bin/env bash
# Issue 16's overlay target, on the host (overlayfs, as root, from the repository root), beside restic
# (Debian's package):  bash docs/bench/overlay-backup.sh   # figures in $B/out (printed at the end)
# One standalone driver. A base overlay volume gets 512 MiB of random data in 64 files and 5,000 small
# files, and is snapshotted on the node. Two clones are cut from that snapshot; each writes 5 MiB of its
# own (1%), deletes a file of the base (a whiteout) and replaces a directory (an opaque one). Then each
# clone's remote snapshot goes to a file:// target (stratactl snapshot create --to: the upload's own
# time, bytes read and uploaded, from the driver's log), and restic backs up each clone's mounted view to
# a directory repository. Last, a second driver (its own data directory) restores both backups.
set -euo pipefail
B=${BENCH_DIR:-/var/tmp/strata-overlay-backup}
for m in $(findmnt -rn -o TARGET | grep "^$B" | sort -r); do umount "$m" || umount -l "$m"; done
rm -rf $B; mkdir -p $B/m; out=$B/out; : > $out
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$B/restic-cache
start_driver() { # NAME
  STRATA_LOG_LEVEL=INFO bin/strata standalone --endpoint unix://$B/$1.sock --data-dir $B/$1 --node-id $1 \
    --default-engine overlay > $B/$1.log 2>&1 &
  echo $! >> $B/pids
  for i in $(seq 1 60); do [ -S $B/$1.sock ] && break; sleep 1; done
}
cleanup() {
  for m in $(findmnt -rn -o TARGET | grep -E "^$B|/run/stratactl" | sort -r); do umount "$m" || umount -l "$m"; done
  kill $(cat $B/pids) 2>/dev/null || true
}
trap cleanup EXIT
start_driver a
ctl() { bin/stratactl --endpoint unix://$B/a.sock --timeout 3600 "$@"; }
ctl volume create base --size 2Gi > /dev/null; ctl mount base $B/m/base > /dev/null
for i in $(seq 1 64); do head -c 8M /dev/urandom > $B/m/base/data-$i; done
mkdir -p $B/m/base/etc/conf.d; echo old > $B/m/base/etc/conf.d/old.conf; echo doomed > $B/m/base/doomed
(cd $B/m/base && python3 -c 'import os
for d in range(50):
    os.mkdir(f"small-{d}")
    for f in range(100): open(f"small-{d}/{f}", "w").write("x" * (d + f))'); sync
ctl snapshot create base --name base-snap > /dev/null
restic init --repo $B/restic --repository-version 2 > /dev/null
for c in one two; do
  ctl volume create $c --from-snapshot base-snap > /dev/null; ctl mount $c $B/m/$c > /dev/null
  head -c 5M /dev/urandom > $B/m/$c/own-$c; rm $B/m/$c/doomed
  rm -r $B/m/$c/etc/conf.d; mkdir $B/m/$c/etc/conf.d; echo $c > $B/m/$c/etc/conf.d/new.conf; sync
done
for c in one two; do
  sync; echo 3 > /proc/sys/vm/drop_caches
  ctl snapshot create $c --name $c-1 --to file://$B/strata > $B/$c.out
  id=$(head -1 $B/$c.out)
  echo "strata $c: $(grep "snapshot $id stored" $B/a.log | sed 's/.*stored in [^ ]* in //')" >> $out
  echo "strata $c: target now $(du -sb $B/strata | cut -f1) bytes" >> $out
  sync; echo 3 > /proc/sys/vm/drop_caches
  s=$(date +%s%N)
  (cd $B/m/$c && restic backup --repo $B/restic --host bench --tag $c . > $B/restic-$c.out)
  echo "restic $c: $(( ($(date +%s%N) - s) / 1000000 )) ms: $(grep -E 'Added to the repo|processed' $B/restic-$c.out | tr '\n' ' ')" >> $out
  echo "restic $c: repository now $(du -sb $B/restic | cut -f1) bytes" >> $out
done
start_driver b
for c in one two; do
  s=$(date +%s%N)
  bin/stratactl --endpoint unix://$B/b.sock --timeout 3600 volume create $c-moved --size 2Gi \
    --from-backup "file://$B/strata#$(head -1 $B/$c.out)" > /dev/null
  bin/stratactl --endpoint unix://$B/b.sock mount $c-moved $B/m/$c-moved > /dev/null
  same=$(diff -r $B/m/$c $B/m/$c-moved > /dev/null && echo "the same view" || echo "A DIFFERENT VIEW")
  echo "strata restore of $c on driver b: $(( ($(date +%s%N) - s) / 1000000 )) ms, $same" >> $out
done
echo "layers on driver b: $(ls $B/b/engines/overlay/layers | grep -c '^layer-')" >> $out
cat $out
