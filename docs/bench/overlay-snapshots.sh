#!/usr/bin/env bash
# Overlay benchmarks (issue 3): restores, snapshots against the change, 100,000 files. As root, from the repository root.
set -euo pipefail
B=${BENCH_DIR:-/var/tmp/strata-bench}; rm -rf $B/data $B/log $B/m; mkdir -p $B/m
export CSI_ENDPOINT=unix://$B/csi.sock
STRATA_LOG_LEVEL=INFO bin/strata standalone --endpoint $CSI_ENDPOINT --data-dir $B/data > $B/log 2>&1 &
echo $! > $B/pid; sleep 3
cleanup() { for m in $(findmnt -rn -o TARGET | grep -E "$B|/run/stratactl" | sort -r); do umount $m || umount -l $m; done; kill $(cat $B/pid) 2>/dev/null || true; }
trap cleanup EXIT
ctl() { bin/stratactl "$@" >/dev/null; }
dur() { grep "$1" $B/log | tail -1 | grep -o 'duration_ms=[0-9.]*'; }
# 1 GiB and 100 GiB of data
ctl volume create big --size 2Gi --param engine=overlay; ctl mount big $B/m/big
dd if=/dev/urandom of=$B/m/big/data bs=1M count=1024 status=none; sync
ctl volume create huge --size 110Gi --param engine=overlay; ctl mount huge $B/m/huge
truncate -s 100G $B/m/huge/data; sync  # a 100 GiB file; sparse, as this VM has 78 GB free
ctl snapshot create big --name big-snap; echo "snapshot big (first, full copy): $(dur CreateSnapshot)"
ctl snapshot create huge --name huge-snap; echo "snapshot huge (first): $(dur CreateSnapshot)"
for i in 1 2 3; do
  ctl volume create big-r$i --from-snapshot big-snap; echo "restore 1GiB #$i: $(dur CreateVolume)"
  ctl volume create huge-r$i --from-snapshot huge-snap; echo "restore 100GiB #$i: $(dur CreateVolume)"
done
# snapshot time against the data changed since the last snapshot
for mib in 0 1 16 128 512; do
  [ $mib -gt 0 ] && dd if=/dev/urandom of=$B/m/big/change-$mib bs=1M count=$mib status=none && sync
  ctl snapshot create big --name big-after-$mib; echo "snapshot after ${mib} MiB changed: $(dur CreateSnapshot)"
done
# 100,000 files: first snapshot, then one after changing 10 of them; delete time
ctl volume create many --size 2Gi --param engine=overlay; ctl mount many $B/m/many
(cd $B/m/many && python3 -c 'import os
for d in range(100):
    os.mkdir(str(d))
    for f in range(1000): open(f"{d}/{f}", "w").write("x")'); sync
ctl snapshot create many --name many-1; echo "snapshot 100k files (first): $(dur CreateSnapshot)"
for f in 1 2 3 4 5 6 7 8 9 10; do echo y > $B/m/many/$f/$f; done; rm $B/m/many/50/50
ctl snapshot create many --name many-2; echo "snapshot 100k files after 11 changes: $(dur CreateSnapshot)"
ctl volume create many-r --from-snapshot many-2; echo "restore 100k files: $(dur CreateVolume)"
ctl umount many $B/m/many; ctl volume rm many; echo "delete 100k-file volume: $(dur DeleteVolume)"
