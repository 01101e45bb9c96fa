#!/usr/bin/env bash
# Thin engine benchmarks (issue 4), run in the VM (device-mapper): vm/run docs/bench/thin.sh
# Snapshot time of a 1 GiB and a 100 GiB volume; CreateVolume with mkfs for 10 GiB; fio sequential
# write on a thin volume (first write: provisioning; second: provisioned) against a plain loop device
# on the same backing filesystem. Figures go to vm/target/bench-thin.txt.
set -euo pipefail
repo=$(pwd); out=$repo/vm/target/bench-thin.txt; B=/tmp/bt
rm -rf $B; mkdir -p $B/m /run/bt; : > $out
export CSI_ENDPOINT=unix:///run/bt/csi.sock
bin/strata standalone --endpoint $CSI_ENDPOINT --data-dir $B/data --thin-pool-dir $B/pool --thin-pool-size 8Gi \
  --thin-overcommit 20 --default-engine thin --node-id bench > $B/log 2>&1 &
for i in $(seq 1 90); do [ -S /run/bt/csi.sock ] && break; sleep 1; done; sleep 3
ctl() { bin/stratactl "$@" >/dev/null; }
dur() { grep "$1" $B/log | tail -1 | grep -o 'duration_ms=[0-9.]*'; }
ctl volume create small --size 1Gi; echo "CreateVolume 1 GiB (mkfs.ext4): $(dur CreateVolume)" >> $out
ctl volume create big --size 100Gi; echo "CreateVolume 100 GiB (mkfs.ext4): $(dur CreateVolume)" >> $out
ctl volume create ten --size 10Gi; echo "CreateVolume 10 GiB (mkfs.ext4): $(dur CreateVolume)" >> $out
ctl mount small $B/m/small; ctl mount big $B/m/big
dd if=/dev/urandom of=$B/m/small/data bs=1M count=256 status=none
dd if=/dev/urandom of=$B/m/big/data bs=1M count=256 status=none; sync
for i in 1 2 3; do
  ctl snapshot create small --name s$i; echo "CreateSnapshot 1 GiB volume #$i: $(dur CreateSnapshot)" >> $out
  ctl snapshot create big --name b$i; echo "CreateSnapshot 100 GiB volume #$i: $(dur CreateSnapshot)" >> $out
done
ctl volume create fio --size 2Gi --param engine=thin
dev=$(bin/stratactl volume inspect fio | grep -o '/dev/mapper/strata-vol-[0-9a-f]*' | head -1)
fio_w() { fio --name=w --filename=$1 --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync --output-format=terse | awk -F';' '{print $48}'; }
echo "fio thin first write (provisioning) KiB/s: $(fio_w $dev)" >> $out
echo "fio thin second write (provisioned) KiB/s: $(fio_w $dev)" >> $out
truncate -s 2G $B/plain; plain=$(losetup -f --show $B/plain)
echo "fio plain loop device (first) KiB/s: $(fio_w $plain)" >> $out
echo "fio plain loop device (second) KiB/s: $(fio_w $plain)" >> $out
losetup -d $plain
kill %1; wait || true
cat $out
