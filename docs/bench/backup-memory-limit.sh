#!/usr/bin/env bash
# The node plugin's memory limit against a big tree: the driver runs in a cgroup-v1 memory cgroup
# of LIMIT bytes (default 320 MiB, the node plugin's limit in deploy/manifests/node.yaml and the
# chart), as the container's limit would hold it, and backs up a volume of
# docs/bench/backup-tree.py's tree (100,000 small files, four 64 MiB ones) to an encrypted file:// target.
# Prints the backup's line from the driver's log (or that the kernel killed the driver), the
# driver's peak resident memory and the cgroup's OOM kills. As root; scratch under
# /var/tmp/bench-memory. STRATA_JAVA_OPTS goes to the driver.
set -euo pipefail
cd "$(dirname "$0")/../.."
limit=${LIMIT:-335544320}
work=/var/tmp/bench-memory
cg=/sys/fs/cgroup/memory/strata-bench-memory
ctl=bin/stratactl
[[ -d /sys/fs/cgroup/memory ]] || { echo "needs the cgroup-v1 memory controller" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" "$cg"
printf 'bench key' > "$work/key"
echo "$limit" > "$cg/memory.limit_in_bytes"
bin/strata standalone --endpoint "unix://$work/csi.sock" --data-dir "$work/data" --node-id bench \
  --backup-key-file "$work/key" > "$work/driver.log" 2>&1 &
driver=$!
echo "$driver" > "$cg/cgroup.procs"
cleanup() {
  kill "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r -n1 umount
  # the driver's children (mount helpers) may still be leaving the cgroup
  for _ in $(seq 20); do rmdir "$cg" 2>/dev/null && break; sleep 0.5; done
}
trap cleanup EXIT
for _ in $(seq 300); do [[ -S $work/csi.sock ]] && break; sleep 0.1; done
e=unix://$work/csi.sock
$ctl --endpoint "$e" volume create data --size 10Gi > /dev/null
$ctl --endpoint "$e" mount data "$work/mnt" > /dev/null
python3 docs/bench/backup-tree.py "$work/mnt"
$ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
sync; echo 3 > /proc/sys/vm/drop_caches
if $ctl --endpoint "$e" snapshot create data --name first --to "file://$work/strata" > /dev/null; then
  echo "backup: $(grep -o 'stored in .*' "$work/driver.log" | tail -1)"
  echo "driver: $(grep -E 'VmHWM' /proc/$driver/status | tr -s ' \t' ' ')"
elif kill -0 "$driver" 2>/dev/null; then
  echo "backup failed: $(grep -E 'ERROR|OutOfMemory' "$work/driver.log" | tail -1)"
else
  echo "backup failed: the driver is gone ($(dmesg | grep -o 'Memory cgroup out of memory: Killed process [0-9]*' | tail -1))"
fi
echo "limit $limit bytes; cgroup peak $(cat "$cg/memory.max_usage_in_bytes") bytes (page cache included);" \
  "$(grep oom_kill "$cg/memory.oom_control" | tr '\n' ' ')"
