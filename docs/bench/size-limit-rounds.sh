#!/usr/bin/env bash
# What holding dir volumes to their size costs a volume's lifecycle (docs/benchmarks.md, "Sizes"):
# one fresh standalone driver of this tree, then ROUNDS rounds (default 3) alternating
#   limited: `bench lifecycle --volumes 300 --concurrency 8 --warmup 100` (the default, sizeLimit auto);
#   none:    the same with `--param sizeLimit=none` (a plain directory, as before issue 18).
# As root; scratch under /var/tmp/bench-size. Prints the mechanism the driver chose.
set -u
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-3}
work=/var/tmp/bench-size
ctl=$PWD/bin/stratactl
rm -rf "$work" && mkdir -p "$work"
e=unix://$work/csi.sock
bin/strata standalone --endpoint "$e" --data-dir "$work/data" --node-id bench > "$work/driver.log" 2>&1 &
pid=$!
for _ in $(seq 300); do [[ -S $work/csi.sock ]] && break; sleep 0.1; done
sleep 1
grep -m1 "dir sizes:" "$work/driver.log"
for round in $(seq "$rounds"); do
  uptime
  echo "round $round limited $($ctl --endpoint "$e" bench lifecycle --volumes 300 --concurrency 8 --warmup 100 2>&1 | tail -1)"
  echo "round $round none    $($ctl --endpoint "$e" bench lifecycle --volumes 300 --concurrency 8 --warmup 100 --param sizeLimit=none 2>&1 | tail -1)"
done
kill "$pid"; wait "$pid" 2>/dev/null
grep -c "loop" /proc/self/mountinfo | sed 's/^/mounts with loop in their line after the stop: /'
