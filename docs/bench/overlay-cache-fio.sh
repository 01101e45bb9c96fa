#!/usr/bin/env bash
# Overlay benchmarks (issue 3): page cache shared by ten clones; fio on a volume against the backing fs. As root, from the repository root; needs fio.
set -euo pipefail
B=${BENCH_DIR:-/var/tmp/strata-bench}; rm -rf $B/data $B/log $B/m $B/raw; mkdir -p $B/m $B/raw
export CSI_ENDPOINT=unix://$B/csi.sock
STRATA_LOG_LEVEL=INFO bin/strata standalone --endpoint $CSI_ENDPOINT --data-dir $B/data > $B/log 2>&1 &
echo $! > $B/pid; sleep 3
cleanup() { for m in $(findmnt -rn -o TARGET | grep -E "$B|/run/stratactl" | sort -r); do umount $m || umount -l $m; done; kill $(cat $B/pid) 2>/dev/null || true; }
trap cleanup EXIT
ctl() { bin/stratactl "$@" >/dev/null; }
dur() { grep "$1" $B/log | tail -1 | grep -o 'duration_ms=[0-9.]*'; }
cached() { awk '/^Cached:/ {print $2}' /proc/meminfo; }
for engine in ${ENGINES:-overlay dir}; do
  ctl volume create src-$engine --size 2Gi --param engine=$engine; ctl mount src-$engine $B/m/src-$engine
  dd if=/dev/urandom of=$B/m/src-$engine/data bs=1M count=1024 status=none; sync
  ctl snapshot create src-$engine --name snap-$engine
  ctl umount src-$engine $B/m/src-$engine
  for i in $(seq 1 10); do
    ctl volume create c$i-$engine --from-snapshot snap-$engine
    ctl mount c$i-$engine $B/m/c$i-$engine
    [ $i = 1 ] && echo "$engine: NodeStage of a restored volume: $(dur NodeStageVolume)"
  done
  sync; echo 3 > /proc/sys/vm/drop_caches; before=$(cached)
  for i in $(seq 1 10); do cat $B/m/c$i-$engine/data > /dev/null; done
  after=$(cached)
  echo "$engine: page cache grew by $(( (after-before)/1024 )) MiB for ten clones reading the same 1 GiB file"
  for i in $(seq 1 10); do ctl umount c$i-$engine $B/m/c$i-$engine; ctl volume rm c$i-$engine; done
done
# fio: sequential write and read, 1 GiB, 1 MiB blocks, on an overlay volume and on the backing fs
ctl volume create fio --size 4Gi --param engine=overlay; ctl mount fio $B/m/fio
run() { # $1 = label, $2 = directory
  w=$(fio --name=w --directory=$2 --rw=write --bs=1M --size=1G --ioengine=psync --end_fsync=1 --output-format=terse | awk -F';' '{print $48}')
  sync; echo 3 > /proc/sys/vm/drop_caches
  r=$(fio --name=w --directory=$2 --rw=read --bs=1M --size=1G --ioengine=psync --output-format=terse | awk -F';' '{print $7}')
  rm -f $2/w.0.0; echo "$1 write_KiBps=$w read_KiBps=$r"
}
for round in 1 2 3 4 5; do run overlay $B/m/fio; run backing $B/raw; done
