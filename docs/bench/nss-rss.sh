#!/usr/bin/env bash
# What NSS costs in memory: the resident size of a standalone driver at rest, and 10 s after one
# remote snapshot (a 64 MiB file and 200 small ones, to a file target), with NSS
# (strata.backup.crypto=auto) and with the JDK's own code (jdk), twice each. As root; scratch under
# /var/tmp/rss-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
for choice in auto jdk auto jdk; do
  w=/var/tmp/rss-$choice; rm -rf $w; mkdir -p $w
  STRATA_JAVA_OPTS="-Dstrata.backup.crypto=$choice" bin/strata standalone --endpoint unix://$w/s.sock --data-dir $w/data --node-id rss > $w/log 2>&1 &
  pid=$!; trap "kill $pid 2>/dev/null" EXIT
  for _ in $(seq 300); do [[ -S $w/s.sock ]] && break; sleep 0.1; done
  sleep 5
  idle=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  bin/stratactl --endpoint unix://$w/s.sock volume create vol --size 1Gi > /dev/null
  bin/stratactl --endpoint unix://$w/s.sock mount vol $w/mnt > /dev/null
  head -c 64M /dev/urandom > $w/mnt/f; for i in $(seq 200); do echo $i > $w/mnt/s$i; done
  bin/stratactl --endpoint unix://$w/s.sock umount vol $w/mnt > /dev/null
  bin/stratactl --endpoint unix://$w/s.sock snapshot create vol --name snap1 --to file://$w/t > /dev/null
  sleep 10
  after=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  echo "$choice: idle ${idle} kB, 10 s after a 64 MiB remote snapshot ${after} kB ($(grep -o 'backups hash and encrypt with .*' $w/log))"
  bin/stratactl --endpoint unix://$w/s.sock snapshot rm snap1 > /dev/null || true
  bin/stratactl --endpoint unix://$w/s.sock volume rm vol > /dev/null || true
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf $w
done
