#!/usr/bin/env bash
# The lifecycle table of docs/benchmarks.md: Strata (this tree's jar, and BEFORE's if given: a clone
# of another commit built with mvn package) against the reference hostpath driver (HOSTPATH: built
# outside the repository), ROUNDS rounds (default 3), alternating. Each driver is started fresh, then
#   cold: `bench lifecycle --volumes 500 --concurrency 8`, the first 3,000 calls after the start;
#   warm: the same with `--warmup 500`, on the same driver: 500 more volumes unmeasured, then 500.
# The bench client is this tree's stratactl for every driver. As root; scratch under /var/tmp/bench-lc.
set -u
cd "$(dirname "$0")/../.."
before=${BEFORE:-}
hostpath=${HOSTPATH:-/var/tmp/tools/hostpathplugin-v1.16.1}
rounds=${ROUNDS:-3}
work=/var/tmp/bench-lc
ctl=$PWD/bin/stratactl

start() { # LABEL COMMAND...: runs a driver on $work/LABEL/csi.sock
  local dir=$work/$1; shift
  rm -rf "$dir" && mkdir -p "$dir/state"
  "$@" > "$dir/driver.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [[ -S $dir/csi.sock ]] && break; sleep 0.1; done
  sleep 1
}

measure() { # LABEL
  local e=unix://$work/$1/csi.sock
  echo "$1 cold $($ctl --endpoint "$e" bench lifecycle --volumes 500 --concurrency 8 2>&1 | tail -1)"
  echo "$1 warm $($ctl --endpoint "$e" bench lifecycle --volumes 500 --concurrency 8 --warmup 500 2>&1 | tail -1)"
  kill "$pid"; wait "$pid" 2>/dev/null
}

strata() { # LABEL REPO
  start "$1" "$2/bin/strata" standalone --endpoint "unix://$work/$1/csi.sock" --data-dir "$work/$1/data" \
    --node-id bench
  measure "$1"
}

mkdir -p "$work"
for round in $(seq "$rounds"); do
  uptime
  [[ -n $before ]] && strata "before-r$round" "$before"
  strata "strata-r$round" .
  start "hostpath-r$round" "$hostpath" --endpoint="unix://$work/hostpath-r$round/csi.sock" --nodeid=bench \
    --statedir="$work/hostpath-r$round/state" --v=1
  measure "hostpath-r$round"
done
uptime
