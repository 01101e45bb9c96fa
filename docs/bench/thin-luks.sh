#!/usr/bin/env bash
# What encryption costs a thin volume (issue 18), run in the VM (device-mapper, dm-crypt):
#   vm/run docs/bench/thin-luks.sh          # figures in vm/target/bench-thin-luks.txt
# Two 2 GiB ext4 thin volumes of one standalone driver, one plain and one encrypted (LUKS2,
# aes-xts-plain64, mounted with stratactl's --key-file); fio in a file on each, direct I/O:
# sequential 1 MiB writes (after a first pass that provisions the blocks) and reads, random 4 KiB
# reads and writes; each for ROUNDS rounds of RUNTIME seconds, plain and encrypted alternating.
set -euo pipefail
repo=$(pwd); out=$repo/vm/target/bench-thin-luks.txt; B=/tmp/bl
ROUNDS=${ROUNDS:-2}; RUNTIME=${RUNTIME:-15}
rm -rf $B; mkdir -p $B/m /run/bl; : > $out
export CSI_ENDPOINT=unix:///run/bl/csi.sock
bin/strata standalone --endpoint $CSI_ENDPOINT --data-dir $B/data --thin-pool-dir $B/pool --thin-pool-size 8Gi \
  --default-engine thin --node-id bench > $B/log 2>&1 &
for i in $(seq 1 90); do [ -S /run/bl/csi.sock ] && break; sleep 1; done; sleep 3
ctl() { bin/stratactl "$@" >/dev/null; }
printf 'bench-key-%s\n' "$RANDOM$RANDOM" > $B/key
ctl volume create plain --size 2Gi --param engine=thin
ctl volume create sealed --size 2Gi --param engine=thin --param encrypted=true
ctl mount plain $B/m/plain
start=$(date +%s%N); ctl mount sealed $B/m/sealed --key-file $B/key
echo "first mount of the encrypted volume (luksFormat, open, mkfs.ext4; stratactl's JVM included): $(( ($(date +%s%N) - start) / 1000000 )) ms" >> $out
bin/stratactl volume inspect sealed | grep -i encryption >> $out || true
fio_run() { # NAME DIR RW BS -> KiB/s (read or write, whichever the job did) and IOPS
  fio --name=$1 --filename=$2/fio.dat --size=1G --rw=$3 --bs=$4 --direct=1 --ioengine=psync \
      --runtime=$RUNTIME --time_based --output-format=terse |
    awk -F';' '{ if ($7 > 0) print $7 " KiB/s " $8 " IOPS"; else print $48 " KiB/s " $49 " IOPS" }'
}
for v in plain sealed; do
  fio --name=fill --filename=$B/m/$v/fio.dat --size=1G --rw=write --bs=1M --direct=1 --ioengine=psync \
      --output-format=terse > /dev/null
done
for round in $(seq 1 $ROUNDS); do
  for job in "write 1M" "read 1M" "randread 4k" "randwrite 4k"; do
    set -- $job
    for v in plain sealed; do
      echo "round $round $1 $2 $v: $(fio_run $1 $B/m/$v $1 $2)" >> $out
    done
  done
done
ctl umount plain $B/m/plain; ctl umount sealed $B/m/sealed
start=$(date +%s%N); ctl mount sealed $B/m/sealed --key-file $B/key
echo "later mount of the encrypted volume (open with the key; stratactl's JVM included): $(( ($(date +%s%N) - start) / 1000000 )) ms" >> $out
ctl umount sealed $B/m/sealed
ctl volume rm plain; ctl volume rm sealed
kill %1; wait || true
cat $out
